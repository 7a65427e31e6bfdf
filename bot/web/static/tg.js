// The Mini App's entry: Telegram passes the launch data in the URL fragment; post it to
// the server, which checks its signature (nothing else is trusted from here).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var params = new URLSearchParams(location.hash.slice(1));
    var data = params.get("tgWebAppData");
    var theme = params.get("tgWebAppThemeParams");
    if (theme) {
      try { sessionStorage.setItem("tgTheme", JSON.stringify(JSON.parse(theme))); } catch (e) { /* ignore */ }
    }
    var form = document.getElementById("tg-login");
    if (!data || !form) {
      document.getElementById("tg-missing").hidden = false;
      return;
    }
    history.replaceState(null, "", location.pathname);  // the launch data leaves the address bar
    form.elements.init_data.value = data;
    form.submit();
  });
})();
