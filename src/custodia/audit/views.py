"""Audit log pages (read_audit: security admin, compliance, auditor): search the events, check the
log's integrity, export evidence bundles, see one event's inclusion proof. Thin: parse → selector
or service → render.

Nothing here shows personal data in clear: events name customers by their pseudonymous id and
staff by username; a customer's name is never looked up.
"""

from __future__ import annotations

import json
import re
import tempfile
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from custodia.access.choices import Role
from custodia.audit import selectors, services
from custodia.audit.forms import AuditSearchForm, BundleForm
from custodia.kernel.views import ActorView

ROLE_LABELS = dict(Role.choices) | {"admin": _("Administrator"), "system": _("System")}
OUTCOME_BADGES = {"success": "ok", "denied": "danger", "failure": "danger"}
OUTCOME_LABELS = {"success": _("success"), "denied": _("denied"), "failure": _("failure")}
SEARCH_FIELDS = ("customer", "person", "action", "since", "until")
TARGET_LABELS = {
    "customer": _("customer"), "contact": _("contact"), "interaction": _("interaction"),
    "opportunity": _("opportunity"), "transaction": _("transaction"), "user": _("person"), "role": _("role"),
    "audit_log": _("audit log"), "alert": _("alert"), "monitor_rule": _("monitoring rule"),
    "review_campaign": _("access review"), "keyring": _("keyring"), "export": _("export"),
    "import_batch": _("import"), "access_request": _("access request"),
}


class AuditSearchView(ActorView):
    """GET: the search filters and one page of matching events, newest first (each search is audited)."""

    required_action = "read_audit"

    def get(self, request):
        params = {name: request.GET.get(name, "").strip()[:150] for name in SEARCH_FIELDS}
        form = AuditSearchForm({k: v for k, v in params.items() if v})
        result = None
        if form.is_valid():
            result = selectors.audit_search(self.actor, **form.filters(), page=request.GET.get("page") or 1)
        shown = {k: v for k, v in params.items() if v and k not in form.errors}
        return render(request, "audit/search.html", {
            "form": form, "result": result, "page_obj": result.page if result else None,
            "rows": [present(row) for row in result.rows] if result else [],
            "filtered": bool(shown), "querystring": urlencode(shown),
            "bundle_scope": {k: v for k, v in shown.items() if k != "action"},
        })


def present(row) -> dict:
    event = row.event
    return {"row": row, "event": event, "role": ROLE_LABELS.get(event.actor_role, event.actor_role),
            "outcome_badge": OUTCOME_BADGES.get(event.outcome, "warn"),
            "outcome": OUTCOME_LABELS.get(event.outcome, event.outcome),
            "target": TARGET_LABELS.get(event.target_type, event.target_type),
            "purpose": purpose_label(event.purpose) if event.purpose else None}


def purpose_label(purpose: str) -> tuple[str, str]:
    """An event's purpose ("code: text") as (label of the code, free text)."""
    code, _sep, text = purpose.partition(": ")
    return str(dict(settings.CUSTODIA_PURPOSES).get(code, code)), text


class AuditIntegrityView(ActorView):
    """GET: the log's size, pending events, latest signed head, public key and witnesses.
    POST op=verify: verify the whole log now and show the result (audited);
    POST op=sign: sign a tree head now (audited), back to the page."""

    required_action = "read_audit"

    def get(self, request):
        return self.page()

    def post(self, request):
        op = request.POST.get("op")
        if op == "verify":
            report = services.log_verify(actor=self.actor)
            return self.page(report=report)
        if op == "sign":
            head = services.head_sign_now(actor=self.actor)
            messages.success(request, _("Signed a tree head over %(size)s events.") % {"size": head.size})
        return redirect("audit:integrity")

    def page(self, *, report=None):
        return render(self.request, "audit/integrity.html", {
            "status": selectors.log_status(self.actor), "report": report,
            "problems": report.problems[:20] if report else [],
        })


class PublicKeyView(ActorView):
    """The log's Ed25519 public key (SubjectPublicKeyInfo PEM), as a download."""

    required_action = "read_audit"

    def get(self, request):
        status = selectors.log_status(self.actor)
        response = HttpResponse(status.public_key_pem, content_type="application/x-pem-file")
        response["Content-Disposition"] = f'attachment; filename="custodia-audit-{status.key_id}.pem"'
        return response


class EventProofView(ActorView):
    """One event's leaf input (canonical JSON, no personal data in clear) and its inclusion proof in
    the latest signed tree head; ``?format=json`` downloads the same as a file."""

    required_action = "read_audit"

    def get(self, request, pk):
        proof = selectors.event_proof(self.actor, pk)
        if request.GET.get("format") == "json":
            response = HttpResponse(json.dumps(proof.as_json(), indent=2, ensure_ascii=False) + "\n",
                                    content_type="application/json; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="custodia-proof-{pk}.json"'
            return response
        return render(request, "audit/proof.html", {"proof": proof, "item": present(proof.row)})


class BundleView(ActorView):
    """GET: the bundle form (prefilled from the query string). POST: build the evidence bundle in a
    temporary file and download it (the export is audited by ``bundles.export_bundle``)."""

    required_action = "read_audit"

    def get(self, request):
        initial = {k: request.GET[k] for k in ("customer", "person", "since", "until") if request.GET.get(k)}
        return render(request, "audit/bundle.html", {"form": BundleForm(initial=initial)})

    def post(self, request):
        form = BundleForm(request.POST)
        if not form.is_valid():
            return render(request, "audit/bundle.html", {"form": form}, status=400)
        from custodia.audit import bundles  # imported here: the search pages do not need its zip writer
        data = form.cleaned_data
        user = data.get("person")
        scope = bundles.Scope(customer_id=data.get("customer"), person_id=user.pk if user else None,
                              person_label=user.username if user else "",
                              since=selectors.as_time(data.get("since")),
                              until=selectors.as_time(data.get("until"), end=True))
        out = tempfile.TemporaryFile(suffix=".zip")
        try:
            bundles.export_bundle(out, actor=self.actor, scope=scope)
        except bundles.BundleTooLarge as exc:
            out.close()
            form.add_error(None, str(exc))
            return render(request, "audit/bundle.html", {"form": form}, status=400)
        except BaseException:
            out.close()
            raise
        out.seek(0)
        return FileResponse(out, as_attachment=True, filename=bundle_filename(data),
                            content_type="application/zip")


def bundle_filename(data: dict) -> str:
    """custodia-evidence-<scope>-<date>.zip, e.g. custodia-evidence-customer-3f2b9c1a-20261127.zip."""
    parts = []
    if data.get("customer"):
        parts.append(f"customer-{str(data['customer'])[:8]}")
    if data.get("person"):
        parts.append("person-" + re.sub(r"[^A-Za-z0-9_.-]", "_", data["person"].username))
    if data.get("since") or data.get("until"):
        since = data["since"].strftime("%Y%m%d") if data.get("since") else "start"
        until = data["until"].strftime("%Y%m%d") if data.get("until") else "now"
        parts.append(f"{since}-{until}")
    today = timezone.localdate().strftime("%Y%m%d")
    return f"custodia-evidence-{'-'.join(parts)}-{today}.zip"

