// The language of the request samples: one choice for the whole page, kept in localStorage.
// Without this script every sample shows, one language under the other.
(function () {
  'use strict';

  var KEY = 'reference-language';
  var panels = document.querySelectorAll('.code.request');
  if (!panels.length) return;
  var first = panels[0].querySelector('.lang').getAttribute('data-lang');

  function stored() {
    try { return localStorage.getItem(KEY); } catch (error) { return null; }
  }

  function choose(language, remember) {
    if (!document.querySelector('.code.request pre[data-lang="' + language + '"]')) language = first;
    panels.forEach(function (panel) {
      panel.querySelectorAll('pre.sample').forEach(function (pre) {
        pre.classList.toggle('chosen', pre.getAttribute('data-lang') === language);
      });
      panel.querySelectorAll('.lang').forEach(function (tab) {
        var on = tab.getAttribute('data-lang') === language;
        tab.classList.toggle('active', on);
        tab.setAttribute('aria-selected', on ? 'true' : 'false');
      });
    });
    document.documentElement.setAttribute('data-language', language);
    if (remember) {
      try { localStorage.setItem(KEY, language); } catch (error) { /* private mode: not kept */ }
    }
  }

  document.documentElement.classList.add('has-languages');
  choose(stored() || first, false);
  document.addEventListener('click', function (event) {
    var tab = event.target.closest('.code.request .lang');
    if (!tab) return;
    // Keep the clicked panel where it is on screen while every panel above it changes height.
    var panel = tab.closest('.code');
    var before = panel.getBoundingClientRect().top;
    choose(tab.getAttribute('data-lang'), true);
    window.scrollBy(0, panel.getBoundingClientRect().top - before);
  });
}());
