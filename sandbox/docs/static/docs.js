// The reference's only script; it is inlined into the page. Copy buttons, the sidebar link of
// the section in view, and the menu button on narrow screens. The page works without it.
(function () {
  'use strict';

  document.querySelectorAll('.code .copy').forEach(function (button) {
    button.addEventListener('click', function () {
      var code = button.closest('.code');
      var text = (code.querySelector('pre.chosen') || code.querySelector('pre')).innerText;
      if (!navigator.clipboard) return;
      navigator.clipboard.writeText(text).then(function () {
        button.textContent = 'Copied';
        setTimeout(function () { button.textContent = 'Copy'; }, 1500);
      }, function () { button.textContent = 'Select and copy'; });
    });
  });

  var sidebar = document.getElementById('sidebar');
  var links = {};
  sidebar.querySelectorAll('a[href^="#"]').forEach(function (link) {
    links[decodeURIComponent(link.getAttribute('href').slice(1))] = link;
  });
  var current = null;
  function mark(id) {
    var link = links[id];
    if (!link || link === current) return;
    if (current) current.classList.remove('active');
    link.classList.add('active');
    current = link;
    var top = link.offsetTop; // the fixed sidebar is the offset parent
    if (top < sidebar.scrollTop || top > sidebar.scrollTop + sidebar.clientHeight - 40) {
      sidebar.scrollTop = top - sidebar.clientHeight / 3;
    }
  }
  if ('IntersectionObserver' in window) {
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) mark(entry.target.id);
      });
    }, { rootMargin: '-60px 0px -70% 0px' });
    Object.keys(links).forEach(function (id) {
      var target = document.getElementById(id);
      if (target) observer.observe(target);
    });
  }

  var menu = document.querySelector('.menu');
  menu.addEventListener('click', function () { document.body.classList.toggle('nav-open'); });
  sidebar.addEventListener('click', function (event) {
    if (event.target.closest('a')) document.body.classList.remove('nav-open');
  });
}());
