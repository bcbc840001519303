// Runs inside the page (added with page.addInitScript): measurements that must happen in the browser.
/* global window, document, performance, requestAnimationFrame, setTimeout, MutationObserver */

/**
 * Clicks a channel in the sidebar and times it: click → message list committed with that channel's
 * posts → the next frame painted. Also reports how long the posts request took within that time.
 */
window.__custodianTimeSwitch = function timeSwitch(name, id) {
  return new Promise((resolve, reject) => {
    const link = document.querySelector(`a[data-channel-name="${name}"]`);
    if (!link) return reject(new Error(`no sidebar link for ${name}`));
    const selector = `#message-list[data-channel-id="${id}"][data-ready="true"]`;
    const started = performance.now();
    let observer;
    const done = () => {
      observer.disconnect();
      const committed = performance.now() - started;
      const requests = performance.getEntriesByType('resource').filter((e) => e.startTime >= started && e.name.includes(`/channels/${id}/posts`));
      const fetch = requests.reduce((sum, e) => sum + e.duration, 0);
      // rAF runs just before the frame is painted; a task queued from it runs after the paint.
      requestAnimationFrame(() =>
        setTimeout(() => {
          const painted = performance.now() - started;
          // Then every message of the page in the DOM (the first frame draws what fits on screen).
          const whenComplete = () => {
            const el = document.querySelector(selector);
            if (el && el.hasAttribute('data-complete')) {
              requestAnimationFrame(() => setTimeout(() => resolve({ committed, painted, complete: performance.now() - started, posts: el.querySelectorAll('article.post').length, fetch })));
            } else setTimeout(whenComplete, 1);
          };
          whenComplete();
        }),
      );
    };
    observer = new MutationObserver(() => {
      const list = document.querySelector(selector);
      if (list) done();
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-ready', 'data-channel-id'] });
    link.click();
    const now = document.querySelector(selector);
    if (now) done();
  });
};
