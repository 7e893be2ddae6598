"""Exports of the register from the back office: the list's "Export CSV / Excel" (and the import
page's export form) submit a `register_export` job with the list's filters, then show its page.

The file is written by a worker (webapp/services/jobs/exports.py), with no cap on its size, and is
downloadable from the job's page for EXPORT_RETENTION_DAYS. An officer's export is their region's
only: the job runs in their scope, whatever the filters say. The same export asked again while the
first one is queued or running (a double click) leads to that same job.
"""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from werkzeug.wrappers import Response

from webapp.access import current_actor, current_scope
from webapp.backoffice import register as register_views
from webapp.backoffice.jobs import ActionForm
from webapp.backoffice.views import blueprint
from webapp.db import get_session
from webapp.services.jobs import exports as export_jobs
from webapp.services.jobs.jobs import submit_job


@blueprint.post("/exports/artisans.<any(csv, xlsx):extension>")
def export_artisans(extension: str) -> Response:
    """Start an export of the register as the list's search and filters choose it (in the query
    string, as /office/artisans has them, or in the posted form), within the reader's scope."""
    if not ActionForm().validate_on_submit():
        abort(400)
    session, scope = get_session(), current_scope()
    form = register_views.filter_form(session, scope, formdata=request.values)
    if not form.validate():
        abort(400)  # a filter the list would not offer this reader (another region)
    filters, _query = register_views.chosen_query(form)
    params = export_jobs.export_params(extension, filters)
    actor = current_actor()
    job = submit_job(
        session,
        export_jobs.NAME,
        actor=actor,
        region_code=scope.region_code,
        params=params,
        dedupe_key=export_jobs.export_dedupe_key(actor.user_id, scope.region_code, params),
    )
    return redirect(url_for("backoffice.job", job_id=job.id))
