# Attention interview prep, for a host serving many learners.
#   docker build -t attention-prep .
#   docker run -p 8501:8501 -v attention-prep-data:/data attention-prep
# Progress (SQLite) lives on the /data volume; the container runs as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ATTN_PREP_DB=/data/progress.sqlite3 \
    ATTN_PREP_CONTENT=/app/content

WORKDIR /app

# bubblewrap: the Practice judge's jail. Docker's default seccomp profile refuses the namespaces
# it needs, so there the judge uses Landlock instead; run with a profile that allows user
# namespaces (or --security-opt seccomp=unconfined on a trusted host) to get bubblewrap.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap \
    && rm -rf /var/lib/apt/lists/*

# The same two steps as the README / Makefile: the CPU build of torch first (pinned, so pip never
# pulls a CUDA build), then the project with exact versions from constraints.txt.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml constraints.txt README.md ./
COPY attention/ attention/
COPY prep/ prep/
RUN pip install -c constraints.txt ".[real-model]"

COPY app.py ./
COPY pages/ pages/
COPY content/ content/
COPY .streamlit/ .streamlit/
# Plotly.js from the installed plotly package, served by the app itself (the app cannot write
# here at run time: it runs as an unprivileged user).
RUN python -m prep.web_assets

RUN useradd --create-home --uid 10001 learner \
    && mkdir -p /data \
    && chown learner:learner /data
USER learner
# The loaded bank as JSON, so a new container's first page does not parse the YAML
# (prep/bank/cache.py). The folder is named, not left to $HOME, which some builders do not set.
ENV ATTN_PREP_CACHE=/home/learner/.cache/attention-prep
RUN python -m prep cache
VOLUME ["/data"]

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read().strip() == b'ok' else 1)"]

CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
