// The sandbox pages' small helpers: local times, "new items" polling, copy buttons.
"use strict";

// <time datetime="..."> is rendered in UTC by the server; show it in the reader's own zone.
function localizeTimes(root) {
  for (const node of root.querySelectorAll("time[datetime]")) {
    const when = new Date(node.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) {
      node.textContent = when.toLocaleString([], {
        month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
      });
      node.title = when.toString();
    }
  }
}

// A list page carries data-poll (a JSON URL), data-poll-key (the array in it) and
// data-poll-count (how many items it shows). When more arrive, the page reloads itself.
function pollForNewItems(list) {
  const url = list.dataset.poll;
  const key = list.dataset.pollKey;
  const shown = Number(list.dataset.pollCount);
  const check = async () => {
    if (document.hidden) return;
    try {
      const answer = await fetch(url, { headers: { Accept: "application/json" } });
      if (!answer.ok) return;
      const items = (await answer.json())[key] || [];
      if (items.length !== shown) window.location.reload();
    } catch (error) {
      // The sandbox is restarting; the next check will tell.
    }
  };
  window.setInterval(check, 3000);
}

function wireCopyButtons(root) {
  for (const button of root.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(button.dataset.copy);
        button.textContent = "Copied";
      } catch (error) {
        button.textContent = button.dataset.copy;
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  localizeTimes(document);
  wireCopyButtons(document);
  for (const list of document.querySelectorAll("[data-poll]")) pollForNewItems(list);
});
