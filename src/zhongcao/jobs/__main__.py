"""``python -m zhongcao.jobs [JOB ...]``: the job worker (what ``zhongcao worker`` runs)."""

from zhongcao.jobs.worker import main

raise SystemExit(main())
