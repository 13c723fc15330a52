"""gunicorn's settings for the web workers (deploy/systemd/mdsn-lms.service uses it).

Bound to loopback: nginx, on the same machine, is the only way in (TLS ends there).
Workers: 2 per core plus 1 is gunicorn's rule of thumb; 4 suits a 2-core machine.
"""

import os

bind = os.environ.get("LMS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("LMS_WORKERS", "4"))
worker_class = "sync"
timeout = 30
graceful_timeout = 30
# nginx sets X-Forwarded-For/-Proto; the app trusts them when LMS_TRUSTED_PROXIES=1.
forwarded_allow_ips = "127.0.0.1"
# The app writes its own JSON line per request; gunicorn's access log would repeat it.
accesslog = None
errorlog = "-"


def on_starting(server):
    """Start /metrics' multiprocess folder empty (numbers of a previous run must not count)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))


def child_exit(server, worker):
    """A worker that ended no longer counts in /metrics' live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
