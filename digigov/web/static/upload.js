// Upload progress for forms marked `data-upload="<status element id>"`, posted by htmx.
//
// While the bytes go up, the <progress> bar and its text follow the browser's upload events;
// once they are all sent, the bar turns indeterminate while the server reads, checks and
// stores the file. htmx then swaps in the page the server answers with: the report, or the
// refusal above a fresh form. Without JavaScript the form posts as a plain form.
// The highest percentage seen is kept in `data-upload-peak` on the `[data-upload-root]` element.
(function () {
  "use strict";

  var MB = 1024 * 1024;
  var PROCESSING = "正在读取、校验并保存为新版本…";
  var NO_REPLY = "连接中断，没有收到服务器的答复。请刷新页面，看是否已导入，再决定是否重试。";

  // The form behind an htmx event: its target for request events, the request's element for swaps.
  function uploadForm(event) {
    var config = event.detail && event.detail.requestConfig;
    var elt = config ? config.elt : event.target;
    return elt instanceof HTMLFormElement && elt.hasAttribute("data-upload") ? elt : null;
  }

  function parts(form) {
    var status = document.getElementById(form.getAttribute("data-upload"));
    return { status: status, bar: status.querySelector("progress"), text: status.querySelector("span") };
  }

  function megabytes(bytes) {
    return (bytes / MB).toFixed(1) + " MB";
  }

  function start(form) {
    var p = parts(form);
    var failure = form.parentNode.querySelector(".upload-failure");
    if (failure) failure.remove();
    form.setAttribute("data-upload-state", "uploading");
    p.bar.value = 0;
    p.text.textContent = "正在上传…";
    p.status.hidden = false;
  }

  function advance(form, detail) {
    var p = parts(form);
    if (!detail.lengthComputable || !detail.total) return;
    var percent = Math.min(100, Math.floor((detail.loaded * 100) / detail.total));
    p.bar.value = percent;
    p.text.textContent =
      "已上传 " + megabytes(detail.loaded) + " / " + megabytes(detail.total) + "（" + percent + "%）";
    var root = form.closest("[data-upload-root]") || document.body;
    if (percent > Number(root.getAttribute("data-upload-peak") || 0)) {
      root.setAttribute("data-upload-peak", String(percent));
    }
    if (detail.loaded >= detail.total) processing(form);
  }

  function processing(form) {
    var p = parts(form);
    form.setAttribute("data-upload-state", "processing");
    p.bar.removeAttribute("value");
    p.text.textContent = PROCESSING;
  }

  function reset(form) {
    var p = parts(form);
    form.removeAttribute("data-upload-state");
    p.status.hidden = true;
    p.bar.value = 0;
    p.text.textContent = "";
  }

  function fail(form, message) {
    reset(form);
    var box = document.createElement("div");
    box.className = "flash error upload-failure";
    box.setAttribute("role", "alert");
    box.textContent = message;
    form.parentNode.insertBefore(box, form);
  }

  // What an answer that is not our page says: the error page's detail, or its plain text.
  function said(xhr) {
    var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var detail = doc.querySelector("main .card p") || doc.body;
    var text = (detail ? detail.textContent : "").replace(/\s+/g, " ").trim();
    return "导入失败（HTTP " + xhr.status + "）：" + (text || "服务器没有说明原因。");
  }

  document.addEventListener("htmx:beforeSend", function (event) {
    var form = uploadForm(event);
    if (form) start(form);
  });

  // htmx reports upload and download progress alike; only the upload phase moves the bar.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = uploadForm(event);
    if (form && form.getAttribute("data-upload-state") === "uploading") advance(form, event.detail);
  });

  document.addEventListener("htmx:xhr:loadend", function (event) {
    var form = uploadForm(event);
    if (form && form.getAttribute("data-upload-state") === "uploading") processing(form);
  });

  // A refusal comes back as the whole page with its error (4xx): show it like a success.
  // Anything else (an error page, a crash) is summarised above the form, which stays as it was.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = uploadForm(event);
    var xhr = event.detail.xhr;
    if (!form || xhr.status < 400) return;
    if (xhr.status < 500 && (xhr.responseText || "").indexOf('id="data-page"') !== -1) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    } else {
      event.detail.shouldSwap = false;
      fail(form, said(xhr));
    }
  });

  document.addEventListener("htmx:sendError", function (event) {
    var form = uploadForm(event);
    if (form) fail(form, NO_REPLY);
  });

  // The page saved for the Back button should show the form at rest, not mid-upload.
  document.addEventListener("htmx:beforeHistorySave", function () {
    document.querySelectorAll("form[data-upload]").forEach(function (form) {
      reset(form);
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = false;
      });
    });
  });
})();
