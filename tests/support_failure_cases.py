"""Generated cases for the recurring-failure tests: planted groups of similar complaints
about one product among noise (unrelated complaints, some in the very same category and
product, small clusters below the threshold, and similar cases spread over too long a
period). Seeded: the same seed gives the same cases."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

# What customers of a home-appliance store write, in the three languages; each planted
# group starts from one of these and is reworded case by case.
DEFECTS = [
    "a porta da geladeira nao fecha direito e a borracha de vedacao esta solta",
    "la lavadora hace un ruido muy fuerte al centrifugar y se mueve por el piso",
    "the microwave turntable stopped spinning and the light flickers when heating",
    "o ar condicionado pinga agua pela frente da unidade interna desde a instalacao",
    "el horno electrico no calienta de forma pareja y quema la base de las tortas",
    "the dishwasher leaves white spots on every glass and the detergent cup stays shut",
]
_NOISE = (
    "entrega atrasada boleto cobranca duplicada nota fiscal endereco errado cupom desconto "
    "senha acesso cadastro aplicativo travando pagamento pix estorno parcelas garantia "
    "factura envio demorado cuenta bloqueada tarjeta rechazada devolucion talle color "
    "invoice missing password reset account locked shipping label tracking number refund "
    "voucher expired loyalty points newsletter unsubscribe store hours pickup reservation "
    "troca tamanho errado cor diferente manual faltando parafuso controle remoto pilha "
    "instalacao agendada tecnico nao apareceu orcamento frete gratis prazo vencido "
    "mando a distancia cable roto pantalla rayada bateria hinchada cargador lento "
    "remote control missing screws scratched screen swollen battery slow charger warranty"
)
NOISE_WORDS = _NOISE.split()
SUBJECTS = ["Produto com defeito", "Reclamação", "Problema", "Defecto", "Help", "Ajuda",
            "Producto dañado", "Not working"]  # fmt: skip
FILLERS = ["por favor", "urgente", "ja liguei duas vezes", "necesito ayuda", "please help",
           "comprei semana passada", "lo compre hace poco", "bought it last month"]  # fmt: skip


@dataclass(frozen=True)
class GeneratedCase:
    label: str
    """``group-N`` for a planted group's case; ``noise-…`` otherwise."""
    category: str
    product_id: str
    subject: str
    description: str
    opened_at: datetime


def _reword(rng: random.Random, text: str) -> str:
    """A customer's own wording: a word dropped, perhaps a filler added, a typo, shouting."""
    words = text.split()
    del words[rng.randrange(len(words))]
    if rng.random() < 0.5:
        words.insert(rng.randrange(len(words)), rng.choice(FILLERS))
    typo = rng.randrange(len(words))
    if rng.random() < 0.5 and len(words[typo]) > 3:
        word = words[typo]
        words[typo] = word[:1] + word[2] + word[1] + word[3:]
    out = " ".join(words)
    return out.upper() if rng.random() < 0.2 else out


def _noise_text(rng: random.Random) -> str:
    return " ".join(rng.sample(NOISE_WORDS, 12))


def generate(seed: int, start: datetime, groups: int = 3, group_size: int = 5,
             noise: int = 60) -> list[GeneratedCase]:  # fmt: skip
    """Cases in opening order over ~3 weeks: ``groups`` planted groups of ``group_size``
    within 5 days each, and the noise (see the module)."""
    assert groups <= len(DEFECTS) - 2, "two defects are kept for the near misses"
    rng = random.Random(seed)
    cases: list[GeneratedCase] = []

    def add(label: str, category: str, product: str, text: str, at: datetime) -> None:
        cases.append(GeneratedCase(label, category, product, rng.choice(SUBJECTS), text, at))

    def anytime() -> datetime:
        return start + timedelta(days=rng.uniform(0, 21))

    for g in range(groups):
        first = start + timedelta(days=rng.uniform(0, 14))
        for _ in range(group_size):
            at = first + timedelta(hours=rng.uniform(0, 5 * 24))
            add(f"group-{g}", "defect", f"SKU-{100 + g}", _reword(rng, DEFECTS[g]), at)
    for n in range(noise):
        if n % 4 == 0:  # in a planted group's bucket, with unrelated text
            add(f"noise-bucket-{n}", "defect", f"SKU-{100 + rng.randrange(groups)}",
                _noise_text(rng), anytime())  # fmt: skip
        else:  # anything else, anywhere
            category = rng.choice(["billing", "delivery", "defect"])
            add(f"noise-{n}", category, f"SKU-{rng.randrange(500, 900)}", _noise_text(rng),
                anytime())  # fmt: skip
    # Below the threshold: group_size - 1 similar cases of one product in the window.
    for _ in range(group_size - 1):
        add("noise-small-cluster", "defect", "SKU-990", _reword(rng, DEFECTS[-2]),
            start + timedelta(days=rng.uniform(0, 5)))  # fmt: skip
    # Similar enough, but one case every 4 days: never group_size of them in 7 days.
    for k in range(group_size):
        add("noise-spread", "defect", "SKU-991", _reword(rng, DEFECTS[-1]),
            start + timedelta(days=4 * k))  # fmt: skip
    return sorted(cases, key=lambda c: c.opened_at)
