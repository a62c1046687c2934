#!/usr/bin/env bash
# Sign a Telegram user in through the development identity provider with curl alone:
# start link -> Dev ID authorize -> callback -> consent -> Confirm, then show that a second use
# of the same link is refused.
#
#   docs/walks/signin-curl.sh 'http://127.0.0.1:8080/auth/start/<token>' [name] [email]
#
# The link is the one the bot sends after /start ("Sign in with Dev ID"); the server must run
# with DEV_IDP_ENABLED=true and PUBLIC_URL on loopback. Exit status 0 means both checks held.
set -euo pipefail

link=${1:?usage: $0 <sign-in link> [name] [email]}
name=${2:-Ivan Petrov}
email=${3:-ivan@example.com}
base=${link%%/auth/start/*}
jar=$(mktemp)
trap 'rm -f "$jar"' EXIT
c() { curl --silent --show-error --cookie "$jar" --cookie-jar "$jar" "$@"; }

echo "1. the start page redirects to the provider"
authorize=$(c --output /dev/null --write-out '%{redirect_url}' "$link")
[[ $authorize == "$base/idp/authorize?"* ]] || { echo "unexpected redirect: $authorize"; exit 1; }

echo "2. Dev ID: sign in as $name <$email>, email verified"
callback=$(c --output /dev/null --write-out '%{redirect_url}' \
  --data-urlencode "name=$name" --data-urlencode "email=$email" --data email_verified=on \
  "$authorize")
[[ $callback == "$base/auth/callback/dev?"* ]] || { echo "no callback: $callback"; exit 1; }

echo "3. the callback checks state, PKCE and the ID token, then asks for consent"
consent=$(c --output /dev/null --write-out '%{redirect_url}' "$callback")
[[ $consent == "$base/auth/consent/"* ]] || { echo "no consent page: $consent"; exit 1; }
page=$(c "$consent")
grep -o 'Link Dev ID account [^<]*' <<<"$page" || true
csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' <<<"$page")
[[ -n $csrf ]] || { echo "no CSRF token on the consent page"; exit 1; }

echo "4. Confirm"
done_page=$(c --data-urlencode "csrf=$csrf" --data action=confirm --data terms=on "$consent")
grep -q 'You are signed in' <<<"$done_page" || { echo "not signed in"; exit 1; }
echo "   signed in"

echo "5. the same link a second time"
status=$(c --output /dev/null --write-out '%{http_code}' "$link")
[[ $status == 410 ]] || { echo "a used link answered $status"; exit 1; }
echo "   refused ($status): the link was already used"
