// Search as you type over the index the build embeds (#search-index): operations, resources,
// guide sections, schemas, fields, error codes and test values. `/` focuses the box; the
// arrow keys move through the results, Enter opens one, Escape closes them.
(function () {
  'use strict';

  var input = document.getElementById('search');
  var list = document.getElementById('search-results');
  var data = document.getElementById('search-index');
  if (!input || !list || !data) return;
  var KIND_WEIGHT = { Operation: 60, Resource: 50, Guide: 30, Schema: 30, 'Error code': 25,
    'Test value': 25, Event: 20, Field: 10, Parameter: 10 };
  var LIMIT = 12;
  var entries = JSON.parse(data.textContent).map(function (entry) {
    return { kind: entry[0], title: entry[1], detail: entry[2], anchor: entry[3],
      key: entry[1].toLowerCase(), all: (entry[1] + ' ' + entry[2] + ' ' + entry[3]).toLowerCase() };
  });
  var shown = [];
  var selected = -1;

  // Higher is better; -1 when a term of the query is missing.
  function score(entry, query, terms) {
    for (var i = 0; i < terms.length; i++) {
      if (entry.all.indexOf(terms[i]) < 0) return -1;
    }
    var points = KIND_WEIGHT[entry.kind] || 0;
    var at = entry.key.indexOf(query);
    if (entry.key === query) points += 100;
    else if (at === 0) points += 60;
    else if (at > 0 && /[^a-z0-9]/.test(entry.key.charAt(at - 1))) points += 45;
    else if (at > 0) points += 25;
    return points - entry.key.length / 20;
  }

  function search(text) {
    var query = text.trim().toLowerCase();
    if (!query) return [];
    var terms = query.split(/\s+/);
    var found = [];
    entries.forEach(function (entry) {
      var points = score(entry, query, terms);
      if (points >= 0) found.push([points, entry]);
    });
    found.sort(function (a, b) { return b[0] - a[0]; });
    return found.slice(0, LIMIT).map(function (pair) { return pair[1]; });
  }

  function line(tag, className, text) {
    var element = document.createElement(tag);
    element.className = className;
    element.textContent = text;
    return element;
  }

  function render() {
    list.textContent = '';
    shown.forEach(function (entry, index) {
      var item = document.createElement('li');
      item.setAttribute('role', 'option');
      item.id = 'search-result-' + index;
      var link = document.createElement('a');
      link.href = '#' + entry.anchor;
      link.appendChild(line('span', 'result-kind', entry.kind));
      link.appendChild(line('span', 'result-title', entry.title));
      if (entry.detail) link.appendChild(line('span', 'result-detail', entry.detail));
      item.appendChild(link);
      list.appendChild(item);
    });
    if (!shown.length && input.value.trim()) {
      list.appendChild(line('li', 'result-none', 'Nothing matches “' + input.value.trim() + '”'));
    }
    var open = input.value.trim() !== '';
    list.hidden = !open;
    input.setAttribute('aria-expanded', open ? 'true' : 'false');
    highlight(shown.length ? 0 : -1);
  }

  function highlight(index) {
    selected = index;
    list.querySelectorAll('li[role="option"]').forEach(function (item, i) {
      item.classList.toggle('selected', i === index);
      item.setAttribute('aria-selected', i === index ? 'true' : 'false');
    });
    if (index >= 0) {
      input.setAttribute('aria-activedescendant', 'search-result-' + index);
      list.children[index].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
  }

  function go(entry) {
    close();
    input.blur();
    if (location.hash === '#' + entry.anchor) {
      var target = document.getElementById(entry.anchor);
      if (target) target.scrollIntoView();
    } else {
      location.hash = entry.anchor;
    }
  }

  input.addEventListener('input', function () {
    shown = search(input.value);
    render();
  });
  input.addEventListener('focus', function () {
    if (input.value.trim()) render();
  });
  input.addEventListener('keydown', function (event) {
    if (event.key === 'ArrowDown' && shown.length) {
      event.preventDefault();
      highlight((selected + 1) % shown.length);
    } else if (event.key === 'ArrowUp' && shown.length) {
      event.preventDefault();
      highlight((selected - 1 + shown.length) % shown.length);
    } else if (event.key === 'Enter' && selected >= 0) {
      event.preventDefault();
      go(shown[selected]);
    } else if (event.key === 'Escape') {
      if (list.hidden) input.blur(); else close();
    }
  });
  list.addEventListener('click', function (event) {
    var link = event.target.closest('a');
    if (!link) return;
    event.preventDefault();
    go(shown[Array.prototype.indexOf.call(list.children, link.parentNode)]);
  });
  document.addEventListener('click', function (event) {
    if (!event.target.closest('.search')) close();
  });
  document.addEventListener('keydown', function (event) {
    var typing = event.target.closest('input, textarea, select, [contenteditable]');
    if (event.key === '/' && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      input.focus();
      input.select();
    }
  });
}());
