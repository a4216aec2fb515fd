// Search as you type: every word must appear in the track's title, artist, album, folder or file
// name; "/" focuses the box and Escape clears it.

export function applySearch() {
  const input = document.querySelector("[data-testid=search]");
  const words = (input ? input.value : "").toLowerCase().split(/\s+/).filter(Boolean);
  for (const track of document.querySelectorAll("[data-testid=track]")) {
    track.hidden = !words.every((w) => track.dataset.search.includes(w));
  }
  for (const group of document.querySelectorAll("[data-testid=group]")) {
    group.hidden = !group.querySelector("[data-testid=track]:not([hidden])");
  }
}

export function setUpSearch() {
  const input = document.querySelector("[data-testid=search]");
  if (!input) return;
  input.addEventListener("input", applySearch);
  document.addEventListener("keydown", (event) => {
    const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement;
    if (event.key === "/" && !typing) {
      event.preventDefault();
      input.focus();
    } else if (event.key === "Escape" && event.target === input) {
      input.value = "";
      applySearch();
    }
  });
}
