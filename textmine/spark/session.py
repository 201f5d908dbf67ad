"""Start (or reuse) a quiet SparkSession whose Python workers can import textmine."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from textmine.errors import TextmineError

# Spark logs INFO/WARN lines (and the "Setting default log level" banner, unless the REPL
# logger's level equals the root's) to stderr; the CLI should print only its own lines.
LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
"""


DYNAMIC_ARCHIVE_MAGIC = (0xF00BABA8).to_bytes(4, "little")  # HotSpot's dynamic CDS archive


def is_local(master: str) -> bool:
    return master.startswith("local")


def under_spark_submit() -> bool:
    """spark-submit starts Python with the gateway of a JVM it already launched."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def start_session(master: str, log_path: Path):  # -> tuple[SparkSession, bool]
    """(session, started_here): the active session if there is one, else a new quiet one.

    For local masters the workers must run this very interpreter (another one on PATH lacks
    textmine and fails on import). The JVM's own stderr (a JDK banner, executor errors) goes to
    `log_path`, so the terminal shows only textmine's lines.
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    java_options = f"-Dlog4j2.configurationFile=file:{_log4j_file()}"
    if is_local(master):
        # A local run's JVM lives for one command: the optimising JIT (C2) costs more CPU than
        # it saves there (JVM CPU for 60,000 reviews: 63 s with it, 35 s with C1 only; for
        # 200,000: 52 s with it, 43 s without). G1's concurrent and parallel GC threads compete
        # with the Python workers for the few local cores; the serial collector does the same
        # work on the task's core (JVM CPU for 200,000 reviews: G1 43 s, parallel 39 s,
        # serial 36 s).
        java_options += " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC " + _class_archive_option()
    builder = (SparkSession.builder.appName("textmine analyze")
               .config("spark.ui.showConsoleProgress", "false")
               # Workers fork from a daemon that imported textmine (textmine.spark.daemon).
               .config("spark.python.daemon.module", "textmine.spark.daemon")
               .config("spark.driver.extraJavaOptions", java_options))
    if under_spark_submit():
        # spark-submit launched the JVM with its own --master and confs: keep them.
        return builder.getOrCreate(), True
    builder = builder.master(master)
    if is_local(master):
        os.environ["PYSPARK_PYTHON"] = sys.executable
        os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
        # No web UI and a loopback address: several local runs on one machine must not
        # collide on ports or depend on the host name resolving.
        builder = (builder.config("spark.ui.enabled", "false")
                   .config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1"))
    try:
        with _stderr_to(log_path):
            spark = builder.getOrCreate()
    except Exception as exc:  # pyspark raises its own runtime errors when the JVM cannot start
        raise TextmineError("E021", str(exc).splitlines()[0][:160], where=master,
                            fix=f"Check that Java 17 is installed (java -version) and see {log_path}."
                            ) from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark, True


def _class_archive_option() -> str:
    """Load Spark's classes from a class-data archive (AppCDS) that an earlier run wrote.

    Finding, parsing and verifying thousands of classes in ~250 jars is most of a local JVM's
    start-up and much of its first job (measured here: start-up 24 s -> 3 s; JVM CPU of a
    first 2,000-review run 19.5 s -> 12.8 s). A run without an archive has its JVM write one
    on exit, under its own name; a later run adopts it once complete (HotSpot writes the
    header last). A stale or unreadable archive only costs a warning in the log: the JVM
    then loads classes from the jars as usual.
    """
    import hashlib

    import pyspark

    key = hashlib.sha1(f"{pyspark.__file__}|{pyspark.__version__}|{_java()}".encode())
    archive = Path(tempfile.gettempdir()) / f"textmine-spark-{key.hexdigest()[:12]}.jsa"
    for dump in archive.parent.glob(f"{archive.stem}.*.jsa"):
        if _complete_archive(dump):
            if archive.exists():  # two first runs at once: keep one archive
                dump.unlink(missing_ok=True)
            else:
                dump.replace(archive)
        elif time.time() - dump.stat().st_mtime > 3600:  # a JVM killed while writing
            dump.unlink(missing_ok=True)
    # HotSpot prints its own warnings (classes it cannot archive) on stdout, which carries the
    # CLI's --json: send them to stderr, which is the Spark log.
    quiet = "-Xlog:disable -Xlog:all=warning:stderr"
    if archive.exists():
        return f"{quiet} -XX:SharedArchiveFile={archive}"
    return f"{quiet} -XX:ArchiveClassesAtExit={archive.with_suffix(f'.{os.getpid()}.jsa')}"


def _java() -> str:
    java = Path(os.environ["JAVA_HOME"]) / "bin" / "java" if "JAVA_HOME" in os.environ else None
    return str((java or Path(shutil.which("java") or "java")).resolve())


def _complete_archive(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == DYNAMIC_ARCHIVE_MAGIC
    except OSError:
        return False


def _log4j_file() -> Path:
    path = Path(tempfile.gettempdir()) / "textmine-log4j2.properties"
    if not path.exists() or path.read_text() != LOG4J2:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(LOG4J2)
        tmp.replace(path)
    return path


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Point file descriptor 2 at `path` while the JVM is launched (it inherits the fd)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(target, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(target)
