// The fragment (#section) of the page that sent the browser here never
// reaches the gateway, but browsers keep it across the redirect to this
// page. Every link here that carries rd gets it, so the login returns to
// the same place on the page. Without script the login still returns to
// the page, at its top.
(function () {
  var h = location.hash;
  if (!h || h.length < 2) return;
  var links = document.querySelectorAll('a[href*="rd="]');
  for (var i = 0; i < links.length; i++) {
    var u = new URL(links[i].getAttribute('href'), location.href);
    if (u.origin !== location.origin) continue;
    var rd = u.searchParams.get('rd');
    if (rd === null || rd.indexOf('#') >= 0) continue;
    u.searchParams.set('rd', rd + h);
    links[i].setAttribute('href', u.pathname + u.search);
  }
})();
