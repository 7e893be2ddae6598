"""Long work on job workers (DESIGN decision 12): the job table's service (jobs.py), what a job's
code receives (context.py), how a job runs on a worker (runner.py), the one storage interface for
files (storage.py), and one module per kind of job, listed in kinds.py."""
