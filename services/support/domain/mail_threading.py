"""How mail finds its case: the case token in a subject, and the category a new case
from mail gets by simple keyword rules. The token format lives here only, so the mail
support sends (later) writes exactly what this reads.

Token: ``[#case-1a2b3c4d]``, the first 8 hex digits of the case id. Agents and customers
can read and quote it. It is matched as a prefix among the sender's own cases, and only
when exactly one matches: a collision never joins mail to the wrong case. A longer
prefix (up to all 32 digits) is accepted, so the token can grow without breaking readers.
"""

from __future__ import annotations

import re
from uuid import UUID

TOKEN_DIGITS = 8
_TOKEN = re.compile(r"\[#case-([0-9a-f]{8,32})\]", re.IGNORECASE)


def case_token(case_id: UUID) -> str:
    """What outgoing mail puts in its subject: ``Re: your order [#case-1a2b3c4d]``."""
    return f"[#case-{case_id.hex[:TOKEN_DIGITS]}]"


def token_prefixes(subject: str) -> tuple[str, ...]:
    """The hex prefixes of the case tokens in a subject, in order, lower-cased."""
    return tuple(dict.fromkeys(m.lower() for m in _TOKEN.findall(subject)))


def prefix_range(prefix: str) -> tuple[UUID, UUID]:
    """The ids a prefix stands for, as a range the case table's primary key can scan."""
    return UUID(prefix.ljust(32, "0")), UUID(prefix.ljust(32, "f"))


# The first rule whose words appear in the subject or body wins; the team rules
# (config/teams.json) then route the case by its category.
CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("refund", ("reembolso", "estorno", "refund", "devolução do dinheiro")),
    ("exchange", ("troca", "trocar", "exchange", "cambio", "cambiar")),
    ("delivery", ("entrega", "rastreio", "não chegou", "nao chegou", "delivery", "tracking",
                  "envío", "shipping", "pedido atrasado")),
    ("billing", ("boleto", "fatura", "cobrança", "cobranca", "invoice", "factura", "billing")),
    ("payment", ("pagamento", "pix", "cartão", "payment", "pago")),
    ("defect", ("defeito", "quebrado", "quebrou", "broken", "defect", "roto")),
    ("installation", ("instalação", "instalacao", "installation", "instalación")),
)  # fmt: skip
DEFAULT_CATEGORY = "general"


def category_of(subject: str, body: str) -> str:
    text = f"{subject}\n{body}".lower()
    for category, words in CATEGORY_WORDS:
        if any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) for word in words):
            return category
    return DEFAULT_CATEGORY
