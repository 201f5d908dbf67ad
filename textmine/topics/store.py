"""Topic models in the workspace: versioned models, topic tables, per-document assignments."""

from __future__ import annotations

import hashlib
import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from textmine.errors import TextmineError
from textmine.schema import duck_type, register_table
from textmine.topics.labels import OTHER, pick_quotes
from textmine.workspace import Workspace

if TYPE_CHECKING:
    from textmine.topics.model import TopicModel

TOPIC_MODELS = pa.schema([
    ("version", pa.int32()),
    ("created_at", pa.timestamp("us")),
    ("engine", pa.string()),
    ("k", pa.int32()),
    ("n_docs", pa.int64()),
    ("coherence", pa.float64()),
    ("stability", pa.float64()),
    ("settings", pa.string()),  # JSON: model parameters and which documents it was fitted on
    ("selection", pa.string()),  # JSON: the auto-K table and the reason for the choice
    ("model", pa.binary()),  # TopicModel.to_bytes()
    ("is_current", pa.bool_()),
])

TOPICS = pa.schema([
    ("version", pa.int32()),
    ("topic_id", pa.int32()),
    ("label", pa.string()),
    ("custom_label", pa.string()),  # set by `topics rename`; wins over `label`
    ("words", pa.list_(pa.string())),
    ("top_terms", pa.list_(pa.string())),
    ("n_docs", pa.int64()),
    ("share", pa.float64()),
    ("coherence", pa.float64()),
    ("top_aspects", pa.list_(pa.string())),
    ("top_products", pa.list_(pa.string())),
    ("quotes", pa.list_(pa.string())),
])

# Which model version put which document in which topic. On a Spark folder, where `documents`
# is read-only Parquet, this is the only record of the assignment.
DOC_TOPICS = pa.schema([
    ("doc_id", pa.string()),
    ("version", pa.int32()),
    ("topic_id", pa.int32()),
    ("topic_prob", pa.float64()),
    ("assigned_at", pa.timestamp("us")),
])

TABLES = {"topic_models": TOPIC_MODELS, "topics": TOPICS, "doc_topics": DOC_TOPICS}
for _name, _schema in TABLES.items():
    register_table(_name, _schema)

ON_CHOICES = ("complaints", "all")


def ensure_tables(ws: Workspace) -> None:
    """Create the topic tables where `Workspace.migrate` does not (a Spark folder's overlay)."""
    for name, schema in TABLES.items():
        cols = ", ".join(f'"{f.name}" {duck_type(f.type)}' for f in schema)
        ws.con.execute(f'CREATE TABLE IF NOT EXISTS "{name}" ({cols})')


def _require_documents(ws: Workspace) -> None:
    if not ws.has_table("documents"):
        raise TextmineError("E019", "the workspace has no documents", where=str(ws.path),
                            fix="Run `textmine analyze FILE` first.")


def documents_where(on: str = "complaints", product: str | None = None,
                    since: str | None = None) -> tuple[str, list[Any]]:
    """SQL condition (and parameters) for the documents a topic model covers.

    Complaints are negative or complaint-intent texts; in chats only what customers wrote
    counts (agents' apologies are not complaints).
    """
    if on not in ON_CHOICES:
        raise TextmineError("E015", f"--on {on}", fix="Use --on complaints or --on all.")
    parts = ["text IS NOT NULL", "(kind IS DISTINCT FROM 'chat' OR role = 'customer')"]
    params: list[Any] = []
    if on == "complaints":
        parts.append("(is_complaint OR polarity = 'negative')")
    if product:
        parts.append("product = ?")
        params.append(product)
    if since:
        parts.append("created_at >= CAST(? AS TIMESTAMP)")
        params.append(since)
    return " AND ".join(parts), params


def select_documents(ws: Workspace, on: str = "complaints", product: str | None = None,
                     since: str | None = None, sample: int | None = None,
                     columns: str = "doc_id, tokens, text") -> pd.DataFrame:
    """The documents a model is fitted on or applied to; `sample` takes a stable random subset."""
    _require_documents(ws)
    where, params = documents_where(on, product, since)
    # hash(doc_id) orders rows pseudo-randomly but the same way every time: reruns agree.
    order = "hash(doc_id), doc_id" if sample else "doc_id"
    limit = f" LIMIT {int(sample)}" if sample else ""
    return ws.query(f"SELECT {columns} FROM documents WHERE {where} ORDER BY {order}{limit}",
                    params)


# -- models ---------------------------------------------------------------------------------

def save_model(ws: Workspace, model: TopicModel, filters: dict[str, Any]) -> int:
    """Store `model` as the new current version; returns its version number."""
    ensure_tables(ws)
    with ws.transaction():
        version = int(ws.con.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM topic_models").fetchone()[0])
        ws.con.execute("UPDATE topic_models SET is_current = false WHERE is_current")
        settings = {**model.get_params(), "filters": filters}
        selection = {"table": model.selection_, "reason": model.selection_reason_}
        ws.insert("topic_models", pd.DataFrame([{
            "version": version, "created_at": datetime.now(), "engine": model.engine,
            "k": model.n_topics_, "n_docs": model.n_docs_, "coherence": model.coherence_,
            "stability": model.stability_, "settings": json.dumps(settings, ensure_ascii=False),
            "selection": json.dumps(selection, ensure_ascii=False), "model": model.to_bytes(),
            "is_current": True,
        }]))
        ws.insert("topics", pd.DataFrame([{
            "version": version, "topic_id": t.topic_id, "label": t.label, "custom_label": None,
            "words": t.words, "top_terms": t.top_terms, "n_docs": t.n_docs, "share": t.share,
            "coherence": t.coherence, "top_aspects": [], "top_products": [], "quotes": t.quotes,
        } for t in model.topics_]))
    return version


def current_version(ws: Workspace) -> int | None:
    if not ws.has_table("topic_models"):
        return None
    row = ws.con.execute(
        "SELECT max(version) FROM topic_models WHERE is_current").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def load_model(ws: Workspace, version: int | None = None) -> tuple[int, TopicModel, dict[str, Any]]:
    """(version, model, filters) of `version` or of the current model."""
    version = version if version is not None else current_version(ws)
    row = None
    if version is not None and ws.has_table("topic_models"):
        row = ws.con.execute("SELECT model, settings FROM topic_models WHERE version = ?",
                             [version]).fetchone()
    if row is None:
        raise TextmineError("E023", f"version {version}" if version is not None else "",
                            where=str(ws.path), fix="Fit one first: textmine topics fit --k auto")
    from textmine.topics.model import TopicModel  # scipy and gensim: only when a model is read

    return version, TopicModel.from_bytes(row[0]), json.loads(row[1]).get("filters", {})


def effective_labels(ws: Workspace, version: int) -> dict[int, str]:
    """topic_id -> label people see (their rename, else the automatic label); -1 -> 其他."""
    rows = ws.con.execute("SELECT topic_id, coalesce(custom_label, label) FROM topics "
                          "WHERE version = ?", [version]).fetchall()
    return {OTHER: "其他", **{int(t): str(label) for t, label in rows}}


def rename_topic(ws: Workspace, topic_id: int, label: str, version: int | None = None) -> int:
    """Give a topic a person's label; documents already assigned show it at once."""
    version = version if version is not None else current_version(ws)
    label = label.strip()
    if not label:
        raise TextmineError("E015", "empty label", fix='Give a label, e.g. "物流太慢".')
    exists = version is not None and ws.con.execute(
        "SELECT count(*) FROM topics WHERE version = ? AND topic_id = ?",
        [version, topic_id]).fetchone()[0]
    if not exists:
        raise TextmineError("E024", f"topic {topic_id} in version {version}", where=str(ws.path),
                            fix="See the topic ids with `textmine topics show`.")
    with ws.transaction():
        ws.con.execute("UPDATE topics SET custom_label = ? WHERE version = ? AND topic_id = ?",
                       [label, version, topic_id])
        if not ws.is_folder:
            ws.con.execute("""
                UPDATE documents SET topic_label = ?
                FROM doc_topics t
                WHERE documents.doc_id = t.doc_id AND t.version = ? AND t.topic_id = ?
            """, [label, version, topic_id])
    return version


# -- applying -------------------------------------------------------------------------------

def apply_model(ws: Workspace, version: int | None = None, *, everything: bool = False,
                since: str | None = None, batch_size: int = 50000) -> dict[str, Any]:
    """Assign documents to the topics of the model without refitting.

    By default only documents this version has not assigned yet (next week's data);
    `everything` re-assigns all. Returns counts per topic label.
    """
    ensure_tables(ws)
    version, model, filters = load_model(ws, version)
    labels = effective_labels(ws, version)
    where, params = documents_where(filters.get("on", "complaints"), filters.get("product"), since)
    if not everything:
        where += " AND doc_id NOT IN (SELECT doc_id FROM doc_topics WHERE version = ?)"
        params.append(version)
    _require_documents(ws)
    docs = ws.query(f"SELECT doc_id, tokens FROM documents WHERE {where} ORDER BY doc_id", params)
    now = datetime.now()
    assigned = []
    for start in range(0, len(docs), batch_size):
        part = docs.iloc[start:start + batch_size]
        ids, probs = model.predict([t if t is not None else [] for t in part["tokens"]])
        assigned.append(pd.DataFrame({"doc_id": part["doc_id"].to_numpy(), "version": version,
                                      "topic_id": ids, "topic_prob": np.round(probs, 6),
                                      "assigned_at": now}))
    frame = pd.concat(assigned) if assigned else pd.DataFrame(columns=list(DOC_TOPICS.names))
    frame["topic_label"] = frame["topic_id"].map(labels)
    _write_assignments(ws, frame, version)
    counts = frame["topic_label"].value_counts()
    return {"version": version, "assigned": len(frame),
            "by_topic": {str(k): int(v) for k, v in counts.items()}}


def _write_assignments(ws: Workspace, frame: pd.DataFrame, version: int) -> None:
    table = pa.Table.from_pandas(frame[list(DOC_TOPICS.names) + ["topic_label"]],
                                 preserve_index=False)
    with ws.transaction():
        ws.con.register("_assigned", table)
        try:
            ws.con.execute("DELETE FROM doc_topics WHERE version = ? AND doc_id IN "
                           "(SELECT doc_id FROM _assigned)", [version])
            ws.con.execute(f"INSERT INTO doc_topics SELECT {', '.join(DOC_TOPICS.names)} "
                           "FROM _assigned")
            if not ws.is_folder:
                ws.con.execute("""
                    UPDATE documents SET topic_id = a.topic_id, topic_label = a.topic_label,
                                         topic_prob = a.topic_prob
                    FROM _assigned a WHERE documents.doc_id = a.doc_id
                """)
        finally:
            ws.con.unregister("_assigned")


def record_run_assignments(ws: Workspace, run_id: str, version: int) -> int:
    """After `analyze` applied the model in its stage: note those assignments in doc_topics."""
    return ws.con.execute("""
        INSERT INTO doc_topics
        SELECT doc_id, ?, topic_id, topic_prob, now()::TIMESTAMP FROM documents
        WHERE run_id = ? AND topic_id IS NOT NULL
    """, [version, run_id]).fetchone()[0]


def summarise(ws: Workspace, version: int, quotes: int = 3) -> None:
    """Fill each topic's share, top products, top negative aspects and quotes from assignments."""
    base = "FROM doc_topics t JOIN documents d USING (doc_id) WHERE t.version = ?"
    total = ws.con.execute(f"SELECT count(*) {base}", [version]).fetchone()[0] or 1
    counts = dict(ws.con.execute(f"SELECT t.topic_id, count(*) {base} GROUP BY 1",
                                 [version]).fetchall())
    products = _top_per_topic(ws, f"""
        SELECT t.topic_id, d.product AS name, count(*) AS n {base} AND d.product IS NOT NULL
        GROUP BY ALL""", version)
    cols = {r[0] for r in ws.con.execute("SELECT column_name FROM information_schema.columns "
                                          "WHERE table_name = 'documents'").fetchall()}
    aspects = {}
    if "aspects" in cols:
        aspects = _top_per_topic(ws, f"""
            SELECT topic_id, a.aspect AS name, count(*) AS n FROM (
                SELECT t.topic_id, unnest(d.aspects) AS a {base}) x
            WHERE a.polarity = 'negative' GROUP BY ALL""", version)
    docs = ws.query(f"SELECT t.topic_id, t.topic_prob, d.text {base} ORDER BY d.doc_id", [version])
    ids, probs, texts = (docs["topic_id"].to_numpy(), docs["topic_prob"].to_numpy(),
                         docs["text"].tolist())
    rows = ws.con.execute("SELECT topic_id FROM topics WHERE version = ?", [version]).fetchall()
    with ws.transaction():
        for (topic_id,) in rows:
            n = int(counts.get(topic_id, 0))
            ws.con.execute("""
                UPDATE topics SET n_docs = ?, share = ?, top_products = ?, top_aspects = ?,
                                  quotes = ?
                WHERE version = ? AND topic_id = ?
            """, [n, n / total, products.get(topic_id, []), aspects.get(topic_id, []),
                  pick_quotes(texts, ids, probs, topic_id, quotes), version, topic_id])


def _top_per_topic(ws: Workspace, sql: str, version: int, n: int = 3) -> dict[int, list[str]]:
    rows = ws.con.execute(f"""
        SELECT topic_id, list(name ORDER BY n DESC, name)[1:{n}] FROM ({sql}) GROUP BY 1
    """, [version]).fetchall()
    return {int(t): list(names) for t, names in rows}


def topic_table(ws: Workspace, version: int | None = None) -> pd.DataFrame:
    """The topics of a version for people: id, label, share, words, products, aspects, quotes."""
    version = version if version is not None else current_version(ws)
    if version is None:
        raise TextmineError("E023", where=str(ws.path),
                            fix="Fit one first: textmine topics fit --k auto")
    return ws.query("""
        SELECT topic_id, coalesce(custom_label, label) AS label, label AS auto_label, share,
               n_docs, words, top_products, top_aspects, quotes, coherence, version
        FROM topics WHERE version = ? ORDER BY share DESC, topic_id
    """, [version])


def model_summary(ws: Workspace, version: int | None = None) -> dict[str, Any]:
    version = version if version is not None else current_version(ws)
    row = ws.query("SELECT version, created_at, engine, k, n_docs, coherence, stability, "
                   "settings, selection FROM topic_models WHERE version = ?", [version])
    if row.empty:
        raise TextmineError("E023", where=str(ws.path),
                            fix="Fit one first: textmine topics fit --k auto")
    out = row.iloc[0].to_dict()
    out["settings"] = json.loads(out["settings"])
    out["selection"] = json.loads(out["selection"])
    return out


# -- handing the model to workers -------------------------------------------------------------

def export_for_workers(ws: Workspace) -> dict[str, Any]:
    """Write the current model (with people's labels) to a cache file workers can read.

    Workers cannot open the DuckDB file (the main process holds its lock). The file name is a
    hash of its content, so a new version or a rename gives a new file and old ones are reused.
    Returns what the topics stage needs in `Config.extra` (empty without a current model).
    """
    version = current_version(ws)
    if version is None:
        return {}
    version, model, filters = load_model(ws, version)
    labels = effective_labels(ws, version)
    for topic in model.topics_:
        topic.label = labels.get(topic.topic_id, topic.label)
    data = model.to_bytes()
    folder = Path(tempfile.gettempdir()) / "textmine-topics"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:20]}.topics"
    if not path.exists():
        tmp = path.with_name(f"{path.name}.{np.random.default_rng().integers(1 << 30)}.part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return {"topic_model": str(path), "topic_version": version,
            "topic_on": filters.get("on", "complaints"), "topic_product": filters.get("product")}
