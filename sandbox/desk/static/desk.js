// The Support desk: reads the support group through the person API and writes as its agent.
"use strict";

(function () {
  const root = document.getElementById("desk");
  if (!root) return;
  const group = root.dataset.group;
  const agent = root.dataset.agent;
  const topicsList = document.getElementById("topics");
  const noTopics = document.getElementById("no-topics");
  const messagesList = document.getElementById("messages");
  const topicName = document.getElementById("topic-name");
  const form = document.getElementById("reply");
  const input = document.getElementById("text");
  const controls = root.querySelectorAll("button[data-command], #reply button, #text");
  let current = null;
  let version = 0;

  async function api(method, path, body) {
    const options = { method, headers: { "Content-Type": "application/json" } };
    if (body) options.body = JSON.stringify(body);
    const response = await fetch("/sandbox/api/" + path, options);
    const answer = await response.json();
    if (!answer.ok) throw new Error(answer.description);
    return answer.result;
  }

  function showTopics(topics) {
    topicsList.replaceChildren();
    noTopics.hidden = topics.length > 0;
    if (current === null && topics.length) current = topics[topics.length - 1].message_thread_id;
    for (const topic of topics) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = topic.name;
      button.dataset.thread = topic.message_thread_id;
      if (topic.message_thread_id === current) button.setAttribute("aria-current", "true");
      if (topic.closed) {
        const mark = document.createElement("span");
        mark.className = "closed";
        mark.textContent = " (closed)";
        button.append(mark);
      }
      button.addEventListener("click", () => { current = topic.message_thread_id; refresh(); });
      item.append(button);
      topicsList.append(item);
    }
    const chosen = topics.find((topic) => topic.message_thread_id === current);
    topicName.textContent = chosen ? chosen.name : "Pick a topic";
    controls.forEach((control) => { control.disabled = !chosen; });
  }

  function showMessages(messages) {
    messagesList.replaceChildren();
    for (const message of messages) {
      if (message.thread_id !== current || message.deleted) continue;
      const item = document.createElement("li");
      if (message.kind === "forum_topic_created") {
        item.className = "service";
        item.textContent = "Topic created";
      } else {
        if (message.outgoing) item.classList.add("outgoing");
        const who = document.createElement("span");
        who.className = "who";
        who.textContent = message.from ? message.from.name : "";
        const body = document.createElement("div");
        body.innerHTML = message.html || "";  // built by the sandbox from a tag whitelist
        if (message.file_url) {
          const link = document.createElement("a");
          link.href = message.file_url;
          link.target = "_blank";
          link.textContent = message.kind === "photo" ? "📷 photo" : "📎 " + (message.file_name || "file");
          body.prepend(link, document.createElement("br"));
        }
        item.append(who, body);
      }
      messagesList.append(item);
    }
  }

  async function refresh() {
    const data = await api("GET", "groups/" + group + "?person_id=" + agent);
    version = Math.max(version, data.version);
    showTopics(data.topics);
    showMessages(data.messages);
  }

  async function send(text) {
    if (current === null || !text) return;
    await api("POST", "groups/" + group + "/messages",
      { person_id: Number(agent), text, message_thread_id: current });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    input.value = "";
    await send(text);
  });
  root.querySelectorAll("button[data-command]").forEach((button) => {
    button.addEventListener("click", () => send(button.dataset.command));
  });

  async function follow() {
    for (;;) {
      try {
        const changed = await api("GET", "events?since=" + version + "&timeout=25");
        if (changed.version > version) await refresh();
      } catch (error) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  refresh().then(follow);
})();
