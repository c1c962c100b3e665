// Try it: each operation's panel sends its request to the sandbox that served the page and
// shows the status, the headers and the body. The key lives in sessionStorage: this tab only.
(function () {
  'use strict';

  var panels = document.querySelectorAll('details.try');
  if (!panels.length) return;
  var KEY = 'reference-key';
  var base = document.body.getAttribute('data-base');

  function storedKey() {
    try { return sessionStorage.getItem(KEY) || ''; } catch (error) { return ''; }
  }

  function shareKey(value, from) {
    try { sessionStorage.setItem(KEY, value); } catch (error) { /* storage off: this panel only */ }
    document.querySelectorAll('.try-key').forEach(function (input) {
      if (input !== from) input.value = value;
    });
  }

  function freshKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return 'try-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2);
  }

  function target(panel) {
    var path = panel.getAttribute('data-path');
    var query = [];
    panel.querySelectorAll('input[data-in]').forEach(function (input) {
      var name = input.getAttribute('data-name');
      if (input.getAttribute('data-in') === 'path') {
        path = path.replace('{' + name + '}', encodeURIComponent(input.value.trim()));
      } else if (input.value.trim() !== '') {
        query.push(encodeURIComponent(name) + '=' + encodeURIComponent(input.value.trim()));
      }
    });
    return base + path + (query.length ? '?' + query.join('&') : '');
  }

  function show(panel, status, headers, body) {
    var result = panel.querySelector('.try-result');
    result.hidden = false;
    var line = panel.querySelector('.try-status');
    line.textContent = status;
    line.className = 'try-status ' + (/^2/.test(status) ? 'try-ok' : 'try-error');
    panel.querySelector('.try-headers').textContent = headers;
    panel.querySelector('.try-response').textContent = body;
    result.scrollIntoView({ block: 'nearest' });
  }

  function send(panel) {
    var key = panel.querySelector('.try-key').value.trim();
    var headers = { Authorization: 'Bearer ' + key };
    var options = { method: panel.getAttribute('data-method'), headers: headers };
    var textarea = panel.querySelector('.try-body');
    if (textarea) {
      try {
        options.body = JSON.stringify(JSON.parse(textarea.value));
      } catch (error) {
        show(panel, 'Not sent: the body is not JSON (' + error.message + ')', '', '');
        return;
      }
      headers['Content-Type'] = 'application/json';
    }
    if (panel.hasAttribute('data-idempotent')) headers['Idempotency-Key'] = freshKey();
    var button = panel.querySelector('.try-send');
    button.disabled = true;
    var started = performance.now();
    fetch(target(panel), options).then(function (response) {
      return response.text().then(function (text) {
        var lines = [];
        response.headers.forEach(function (value, name) { lines.push(name + ': ' + value); });
        var body = text;
        try { body = JSON.stringify(JSON.parse(text), null, 2); } catch (error) { /* not JSON */ }
        var took = Math.round(performance.now() - started);
        show(panel, response.status + ' ' + response.statusText + ' · ' + took + ' ms',
          lines.join('\n'), body);
      });
    }, function (error) {
      show(panel, 'No answer: ' + error.message, '', '');
    }).then(function () { button.disabled = false; });
  }

  panels.forEach(function (panel) {
    var keyInput = panel.querySelector('.try-key');
    keyInput.value = storedKey();
    keyInput.addEventListener('input', function () { shareKey(keyInput.value.trim(), keyInput); });
    panel.querySelector('.try-form').addEventListener('submit', function (event) {
      event.preventDefault();
      send(panel);
    });
  });
}());
