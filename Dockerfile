FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY core core
COPY bot bot
COPY web web
COPY accountbot accountbot
COPY locales locales
# The product only: the sandbox and its SMTP stand-in (aiosmtpd) are a distribution of their own.
RUN pip install --no-cache-dir . && useradd --system --home /app accountbot
USER accountbot
EXPOSE 8080
CMD ["sh", "-c", "accountbot migrate && accountbot run"]
