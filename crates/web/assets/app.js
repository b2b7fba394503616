// Progressive enhancement only: every page works without this file.
//
// Search suggestions: an input with `data-suggest="<url>"` gets a native <datalist> filled from
// `<url>?q=…` as the user types (at least two characters, after a short pause). Browsers and
// screen readers present a datalist as the input's own suggestion list.
"use strict";

(function () {
  function enhance(input) {
    var list = document.createElement("datalist");
    list.id = input.id + "-vorschlaege";
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("list", list.id);
    var timer = null;
    var last = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q.length < 2 || q === last) return;
        last = q;
        fetch(input.dataset.suggest + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
          .then(function (data) {
            if (input.value.trim() !== q) return;
            list.replaceChildren.apply(list, data.suggestions.map(function (s) {
              var option = document.createElement("option");
              option.value = s.name;
              return option;
            }));
          })
          .catch(function () { /* suggestions are optional */ });
      }, 150);
    });
  }
  document.querySelectorAll("input[data-suggest]").forEach(enhance);
})();
