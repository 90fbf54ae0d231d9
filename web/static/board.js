// board.js - the live part of metrolog-web's board (docs/WEB.md): listens
// to /events (Server-Sent Events) and writes each new value, age, state
// and link into the cells the server drew. It only ever sets textContent
// and class names: nothing it receives becomes HTML. No library.
"use strict";
(function () {
  var live = document.getElementById("live");
  if (!live) {
    return;
  }
  // the server's clock minus the browser's, ms: ages are the server's
  var offset = Number(live.getAttribute("data-now")) - Date.now();

  // as page_age() in web/page.c writes it
  function age(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 120) {
      return s + " s";
    }
    if (s < 7200) {
      return Math.floor(s / 60) + " min";
    }
    if (s < 172800) {
      return Math.floor(s / 3600) + " h";
    }
    return Math.floor(s / 86400) + " d";
  }

  function tickAges() {
    var now = Date.now() + offset;
    var cells = document.querySelectorAll("td.age[data-t]");
    for (var i = 0; i < cells.length; i++) {
      cells[i].textContent = age(now - Number(cells[i].getAttribute("data-t")));
    }
  }

  function set(id, text, cls) {
    var e = document.getElementById(id);
    if (e) {
      e.textContent = text;
      if (cls !== undefined) {
        e.className = cls;
      }
    }
  }

  function status(ok) {
    live.textContent = live.getAttribute(ok ? "data-ok" : "data-lost");
    live.className = ok ? "live live-ok" : "live live-lost";
  }

  var es = new EventSource("/events");
  es.onopen = function () {
    status(true);
  };
  es.onerror = function () {
    status(false);
  };
  // one channel of a "chs" event: [id, t, v, c, s, lt] (docs/WEB.md)
  function channel(c) {
    var id = "c" + c[0];
    set(id + "-v", c[2]);
    set(id + "-s", c[4], "st " + c[3]);
    var a = document.getElementById(id + "-a");
    if (a && c[1]) {
      a.setAttribute("data-t", String(c[1]));
      a.setAttribute("title", c[5]);
    }
    var row = document.getElementById(id);
    if (row) {
      row.setAttribute("data-seen", String(c[1]));
    }
  }

  es.addEventListener("chs", function (ev) {
    var d = JSON.parse(ev.data);
    offset = d.n - Date.now();
    for (var i = 0; i < d.ch.length; i++) {
      channel(d.ch[i]);
    }
    tickAges();
  });
  es.addEventListener("inst", function (ev) {
    var d = JSON.parse(ev.data);
    set("i" + d.id + "-link", d.l, "link link-" + d.lc);
    set("i" + d.id + "-due", d.d, "due due-" + d.dc);
  });
  es.addEventListener("reload", function () {
    es.close();
    window.location.reload();
  });
  setInterval(tickAges, 1000);
})();
