// Inside Airflow's iframe (sandboxed: no top navigation, no new tabs) a link to an Airflow page
// asks the parent's router to navigate instead; outside the iframe the link works as usual.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.airflow-link");
  if (!link || window.parent === window) return;
  try {
    const target = new URL(link.href, window.location.href);
    window.parent.history.pushState({}, "", target.pathname + target.search);
    window.parent.dispatchEvent(new PopStateEvent("popstate"));
    event.preventDefault();
  } catch (e) {
    // A parent on another origin cannot be driven: fall back to following the link in place.
  }
});
