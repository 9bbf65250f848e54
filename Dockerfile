FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock .python-version ./
RUN uv sync --locked --no-dev
COPY . .
EXPOSE 8000
CMD ["uv", "run", "--no-dev", "python", "manage.py", "quickstart", "0.0.0.0:8000"]
