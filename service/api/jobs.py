"""Background jobs: GET /api/v1/jobs[/{id}] shows state and progress, DELETE cancels (or removes a
finished pack), GET /api/v1/jobs/{id}/result downloads the pack."""

from __future__ import annotations

from typing import Any

from flask import send_file, url_for
from marshmallow import RAISE

from schemas.errors import problem
from service import audit, jobs
from service.api.blueprint import Blueprint
from service.api.listing import listed
from service.api.problems import PROBLEM_JSON, RequestProblem, language, problem_body
from service.api.schemas import JobArgsSchema, JobSchema, ProblemSchema
from service.auth import authorize, scope
from service.i18n import translate
from service.jobs.problems import read_back
from service.jobs.records import ACTIVE
from service.jobs.storage import JobFiles
from service.store import database
from service.store.models import Job, utcnow

blp = Blueprint("jobs", __name__, url_prefix="/api/v1", description="Background jobs and their results")

ZIP = "application/zip"  # the documented result: a pack


def job_view(job: Job) -> dict[str, Any]:
    """A job as the API shows it, with its error in the response language and its result's address."""
    view = {
        column: getattr(job, column)
        for column in (
            "id",
            "kind",
            "title",
            "municipality",
            "state",
            "step",
            "done",
            "total",
            "created_at",
            "started_at",
            "finished_at",
            "input_sha256",
        )
    }
    view["url"] = url_for("jobs.show_job", job_id=job.id)
    view["error"] = None
    if (error := job.error()) is not None:
        code, message = translate(error, language())
        view["error"] = {"code": code, "message": message}
        if kept := job.problems():  # an order its job validated: every problem, as a 422 lists them
            problems, places = read_back(kept)
            listed = problem_body(422, language(), instance=None, errors=problems, places=places)
            view["error"]["errors"] = listed["errors"]
    view["result"] = None
    if job.state == "succeeded" and job.deleted_at is None:
        view["result"] = {
            "url": url_for("jobs.download_result", job_id=job.id),
            "name": job.result_name,
            "size": job.result_size,
            "sha256": job.result_sha256,
        }
    return view


@blp.route("/jobs", methods=["GET"])
@blp.arguments(JobArgsSchema, location="query", unknown=RAISE)
@blp.response(200, JobSchema(many=True))
def list_jobs(args):
    """Jobs the user may see, newest first; by state."""
    authorize("job:read")
    return [job_view(job) for job in listed(Job, args, time_column="created_at", equal=("state",))]


@blp.route("/jobs/<job_id>", methods=["GET"])
@blp.response(200, JobSchema)
def show_job(job_id):
    """A job's state, its progress (documents done of total) and the step it is at."""
    authorize("job:read")
    with database().session() as session:
        return job_view(scope().get(session, Job, job_id))


@blp.route("/jobs/<job_id>", methods=["DELETE"])
@blp.response(204)
def cancel_job(job_id):
    """Cancel an unfinished job, or remove a finished job's pack; the job stays listed, for the record."""
    user = authorize("pack:create")
    with database().session() as session:
        job = scope().get(session, Job, job_id)
        if job.state in ACTIVE:
            job.stop("cancelled", "job.cancelled")
            audit.record(session, user, "cancelled", "job", job.id)
        elif job.deleted_at is None:
            job.deleted_at = utcnow()
            audit.record(session, user, "deleted", "job", job.id, sha256=job.result_sha256)
    JobFiles(jobs.folder(), job_id).remove()


@blp.route("/jobs/<job_id>/result", methods=["GET"])
@blp.doc(
    responses={
        200: {
            "description": "The pack (ZIP)",
            "content": {ZIP: {"schema": {"type": "string", "format": "binary"}}},
        },
        409: {"description": "Not finished yet", "content": {PROBLEM_JSON: {"schema": ProblemSchema}}},
        410: {
            "description": "Failed, cancelled or removed",
            "content": {PROBLEM_JSON: {"schema": ProblemSchema}},
        },
    }
)
def download_result(job_id):
    """The finished pack."""
    user = authorize("job:read")
    with database().session() as session:
        job = scope().get(session, Job, job_id)
        if job.state in ACTIVE:
            raise RequestProblem(409, problem("job.not_finished", state=job.state))
        path = jobs.files(job).result
        if job.state != "succeeded" or job.deleted_at is not None or not path.exists():
            raise RequestProblem(410, problem("job.no_result", state=job.state))
        audit.record(session, user, "downloaded", job.kind, job.id, sha256=job.result_sha256)
        name, media_type = job.result_name, jobs.media_type(job)
    return send_file(path, mimetype=media_type, as_attachment=True, download_name=name, max_age=0)
