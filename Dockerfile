# The app served for real: gunicorn (manage.py serve), DEBUG off, static files by WhiteNoise.
# Needs DATABASE_URL and DJANGO_SECRET_KEY; see docker-compose.yml and the README.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 UV_LINK_MODE=copy PATH=/app/.venv/bin:$PATH
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock .python-version ./
# The dependencies first (a layer that changes only with uv.lock), then the code and
# the package django-pgvector-admin itself, installed from this checkout.
RUN uv sync --locked --no-dev --no-install-project
COPY . .
RUN uv sync --locked --no-dev
EXPOSE 8000
# Python itself is process 1, so `docker stop` (SIGTERM) reaches gunicorn, which stops
# its workers cleanly. serve applies migrations and collects static files, then serves.
CMD ["python", "manage.py", "serve", "0.0.0.0:8000"]
