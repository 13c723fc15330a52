"""Region-scale benchmarks: a data generator (``flask lms seed-bench``), in-process page
timings with query counts, HTTP throughput with gunicorn and wrk, certificates, booking
under concurrency and reminder sweeps. ``make bench`` runs them all (``python -m bench.run``).

Nothing in ``lms`` imports this package except the ``seed-bench`` command, lazily.
"""
