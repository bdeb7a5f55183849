/*
 * Custodia — the little JavaScript the UI needs. CSP-safe: loaded from 'self' with `defer`,
 * no inline handlers, no eval, no injected <style>. Behaviour is attached through data attributes
 * (see kernel/templates/components/README.md):
 *
 *   - CSRF: every htmx request gets X-CSRFToken from <meta name="csrf-token">.
 *   - Modal: htmx content swapped into #modal opens <dialog id="modal-dialog">; [data-close-modal],
 *     Esc, a click on the backdrop or an HX-Trigger "closeModal" event close it. Closing empties
 *     #modal so revealed values do not linger in the DOM.
 *   - Confirm: [data-confirm="message"] on a link, button or form asks before going on.
 *   - Copy: [data-copy="text"] or [data-copy-target="#selector"] copies to the clipboard.
 *   - Toasts: .toast elements hide themselves after data-timeout ms (default 5000, errors 10000);
 *     [data-dismiss-toast] closes one now.
 *   - Auto-submit: a <select data-autosubmit> submits its form on change.
 */
(function () {
  "use strict";

  var doc = document;

  function csrfToken() {
    var meta = doc.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* CSRF header for htmx ----------------------------------------------------------------------- */
  doc.addEventListener("htmx:configRequest", function (evt) {
    var token = csrfToken();
    if (token && evt.detail && evt.detail.headers) {
      evt.detail.headers["X-CSRFToken"] = token;
    }
  });

  /* Modal dialog ------------------------------------------------------------------------------- */
  var lastFocus = null;

  function modalParts() {
    return { dialog: doc.getElementById("modal-dialog"), body: doc.getElementById("modal") };
  }

  function openModal() {
    var m = modalParts();
    if (!m.dialog || m.dialog.open) return;
    lastFocus = doc.activeElement;
    if (typeof m.dialog.showModal === "function") {
      m.dialog.showModal();
    } else {
      m.dialog.setAttribute("open", "");
    }
    var autofocus = m.dialog.querySelector("[autofocus]");
    if (autofocus) autofocus.focus();
  }

  function closeModal() {
    var m = modalParts();
    if (!m.dialog) return;
    if (m.dialog.open) {
      if (typeof m.dialog.close === "function") m.dialog.close();
      else m.dialog.removeAttribute("open");
    } else {
      onModalClosed();
    }
  }

  function onModalClosed() {
    var m = modalParts();
    if (m.body) m.body.innerHTML = ""; // never leave a revealed value in the page
    if (lastFocus && typeof lastFocus.focus === "function" && doc.contains(lastFocus)) {
      lastFocus.focus();
    }
    lastFocus = null;
  }

  doc.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail && evt.detail.target;
    if (!target || target.id !== "modal") return;
    if (target.textContent.trim() || target.children.length) openModal();
    else closeModal();
  });

  // Server can say HX-Trigger: closeModal (e.g. after a successful form post inside the modal).
  doc.addEventListener("closeModal", closeModal);

  doc.addEventListener("close", function (evt) {
    if (evt.target && evt.target.id === "modal-dialog") onModalClosed();
  }, true);

  doc.addEventListener("click", function (evt) {
    var m = modalParts();
    // A click on the backdrop lands on the <dialog> element itself.
    if (m.dialog && evt.target === m.dialog) {
      var r = m.dialog.getBoundingClientRect();
      var inside = evt.clientX >= r.left && evt.clientX <= r.right && evt.clientY >= r.top && evt.clientY <= r.bottom;
      if (!inside) closeModal();
      return;
    }
    var closer = evt.target.closest && evt.target.closest("[data-close-modal]");
    if (closer) {
      evt.preventDefault();
      closeModal();
    }
  });

  /* Confirm destructive actions ---------------------------------------------------------------- */
  // Capture phase, so a refusal stops htmx and normal navigation/submission alike.
  doc.addEventListener("click", function (evt) {
    var el = evt.target.closest && evt.target.closest("[data-confirm]");
    if (!el || el.tagName === "FORM") return;
    if (el.disabled || el.getAttribute("aria-disabled") === "true") return;
    if (!window.confirm(el.getAttribute("data-confirm"))) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
      return;
    }
    // Confirmed on the button: do not ask again on its form's submit.
    var form = el.form || (el.closest && el.closest("form"));
    if (form && form.hasAttribute("data-confirm")) form.setAttribute("data-confirmed", "1");
  }, true);

  doc.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-confirm")) return;
    if (form.getAttribute("data-confirmed") === "1") {
      form.removeAttribute("data-confirmed");
      return;
    }
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }, true);

  /* Copy to clipboard -------------------------------------------------------------------------- */
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var ta = doc.createElement("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.className = "sr-only";
      doc.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = doc.execCommand("copy"); } catch (e) { ok = false; }
      doc.body.removeChild(ta);
      if (ok) resolve(); else reject(new Error("copy failed"));
    });
  }

  doc.addEventListener("click", function (evt) {
    var btn = evt.target.closest && evt.target.closest("[data-copy], [data-copy-target]");
    if (!btn) return;
    evt.preventDefault();
    var text = btn.getAttribute("data-copy");
    if (text === null) {
      var src = doc.querySelector(btn.getAttribute("data-copy-target"));
      if (!src) return;
      text = "value" in src && src.tagName !== "BUTTON" ? src.value : src.textContent;
    }
    text = (text || "").trim();
    var original = btn.getAttribute("data-copy-original");
    if (original === null) {
      original = btn.innerHTML;
      btn.setAttribute("data-copy-original", original);
    }
    copyText(text).then(function () {
      btn.classList.add("copied");
      btn.textContent = btn.getAttribute("data-copied-label") || "✓";
      window.setTimeout(function () {
        btn.classList.remove("copied");
        btn.innerHTML = btn.getAttribute("data-copy-original");
      }, 1800);
    }, function () {
      btn.textContent = btn.getAttribute("data-copy-failed-label") || "×";
    });
  });

  /* Toasts ------------------------------------------------------------------------------------- */
  function dismissToast(toast) {
    if (!toast || toast.classList.contains("is-hiding")) return;
    toast.classList.add("is-hiding");
    window.setTimeout(function () {
      if (toast.parentNode) toast.parentNode.removeChild(toast);
    }, 300);
  }

  function armToast(toast) {
    if (toast.hasAttribute("data-toast-armed")) return;
    toast.setAttribute("data-toast-armed", "1");
    var attr = toast.getAttribute("data-timeout");
    var timeout = attr !== null ? parseInt(attr, 10)
      : (toast.classList.contains("toast-error") || toast.classList.contains("toast-warning") ? 10000 : 5000);
    if (!timeout || timeout < 0) return; // data-timeout="0": stays until closed
    var timer = null;
    var remaining = timeout;
    var started = 0;
    function start() {
      started = Date.now();
      timer = window.setTimeout(function () { dismissToast(toast); }, remaining);
    }
    function pause() {
      if (timer) {
        window.clearTimeout(timer);
        timer = null;
        remaining = Math.max(1000, remaining - (Date.now() - started));
      }
    }
    toast.addEventListener("mouseenter", pause);
    toast.addEventListener("focusin", pause);
    toast.addEventListener("mouseleave", start);
    toast.addEventListener("focusout", function (e) {
      if (!toast.contains(e.relatedTarget)) start();
    });
    start();
  }

  function initToasts(root) {
    var scope = root && root.querySelectorAll ? root : doc;
    if (scope.classList && scope.classList.contains("toast")) armToast(scope);
    Array.prototype.forEach.call(scope.querySelectorAll(".toast"), armToast);
  }

  doc.addEventListener("click", function (evt) {
    var btn = evt.target.closest && evt.target.closest("[data-dismiss-toast]");
    if (btn) dismissToast(btn.closest(".toast"));
  });

  /** Show a toast from JavaScript: Custodia.toast("已保存", "success"). */
  function showToast(message, level) {
    var stack = doc.getElementById("toasts");
    if (!stack) return;
    var toast = doc.createElement("div");
    toast.className = "toast toast-" + (level || "info");
    toast.setAttribute("role", level === "error" ? "alert" : "status");
    var body = doc.createElement("div");
    body.className = "toast-body";
    body.textContent = message;
    var close = doc.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("data-dismiss-toast", "");
    close.setAttribute("aria-label", stack.getAttribute("data-close-label") || "Close");
    close.textContent = "×";
    toast.appendChild(body);
    toast.appendChild(close);
    stack.appendChild(toast);
    armToast(toast);
  }

  // A failed htmx request says so instead of failing silently.
  doc.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail && evt.detail.xhr;
    var body = doc.body;
    var msg = (xhr && xhr.status === 403 && body.getAttribute("data-msg-forbidden")) ||
      body.getAttribute("data-msg-error") || "Request failed";
    showToast(msg, "error");
  });
  doc.addEventListener("htmx:sendError", function () {
    showToast(doc.body.getAttribute("data-msg-offline") || "Network error", "error");
  });

  /* Auto-submit selects ------------------------------------------------------------------------ */
  doc.addEventListener("change", function (evt) {
    var el = evt.target;
    if (el && el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
      if (typeof el.form.requestSubmit === "function") el.form.requestSubmit();
      else el.form.submit();
    }
  });

  /* Boot --------------------------------------------------------------------------------------- */
  function boot() { initToasts(doc); }
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", boot);
  else boot();

  // Content added by htmx (including out-of-band toasts).
  doc.addEventListener("htmx:load", function (evt) { initToasts(evt.detail && evt.detail.elt); });

  window.Custodia = { toast: showToast, openModal: openModal, closeModal: closeModal };
})();
