"""Transformer architectures: the shape numbers that FLOPs and bytes are counted from.

An :class:`Architecture` is plain data (frozen). Build one from a Hugging Face
``config.json`` dict with :meth:`Architecture.from_hf_config`, or take a shipped
preset with :func:`get_architecture` (names are case-insensitive and Hugging Face
ids such as ``meta-llama/Llama-2-7b-chat-hf`` are accepted).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Architecture"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Architecture:
    """Shape of a decoder-only transformer.

    Parameters
    ----------
    name : str
        Display name, e.g. ``"Llama-2-7B"``.
    n_layers : int
        Number of transformer blocks ``L``.
    hidden_size : int
        Model width ``h``.
    n_heads : int
        Query heads ``a``.
    n_kv_heads : int
        Key/value heads ``k`` (``k == a`` multi-head, ``1 < k < a`` GQA, ``k == 1`` MQA).
    head_dim : int
        Per-head dimension ``d`` (usually ``h / a``; Gemma-7B has 256).
    ffn_size : int
        Intermediate size ``f`` of the MLP (of one expert for MoE).
    gated_mlp : bool
        True for SwiGLU/GeGLU MLPs (3 matrices: gate, up, down), False for 2 matrices.
    vocab_size : int
        Vocabulary ``V``; the LM head is ``h x V``.
    tied_embeddings : bool
        Input embedding and LM head share one matrix (the LM head is still streamed
        in full at every forward pass).
    n_experts : int
        Experts per MoE layer ``X`` (1 for a dense model).
    n_experts_active : int
        Experts each token is routed to ``x`` (1 for a dense model).
    weight_bytes : float
        Bytes per weight (2 for bf16/fp16, 1 for fp8/int8).
    kv_bytes : float
        Bytes per cached K or V element.
    source : str
        Where the numbers come from (URL of the config.json, commit or paper).
    hf_id : str
        Hugging Face model id the preset describes, if any.
    """

    name: str
    n_layers: int
    hidden_size: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    ffn_size: int
    gated_mlp: bool
    vocab_size: int
    tied_embeddings: bool = False
    n_experts: int = 1
    n_experts_active: int = 1
    weight_bytes: float = 2.0
    kv_bytes: float = 2.0
    source: str = ""
    hf_id: str = ""

    # -- derived shape numbers (used by sweetspot.counts) ------------------------------
    @property
    def q_dim(self) -> int:
        """Width of the query projection output, ``a d``."""
        return self.n_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of each of the K and V projections, ``k d``."""
        return self.n_kv_heads * self.head_dim

    @property
    def attn_params_per_layer(self) -> int:
        """Weights of Q, K, V and O projections in one layer: ``h(ad) + 2h(kd) + (ad)h``."""
        h = self.hidden_size
        return h * self.q_dim + 2 * h * self.kv_dim + self.q_dim * h

    @property
    def mlp_params_per_expert(self) -> int:
        """Weights of one MLP (one expert): ``3hf`` gated, ``2hf`` otherwise."""
        return (3 if self.gated_mlp else 2) * self.hidden_size * self.ffn_size

    @property
    def router_params_per_layer(self) -> int:
        """Weights of the MoE router, ``h X`` (0 for a dense model)."""
        return self.hidden_size * self.n_experts if self.n_experts > 1 else 0

    @property
    def active_params_per_token(self) -> int:
        """Linear-layer weights one token multiplies through (excluding the LM head)."""
        return self.n_layers * (
            self.attn_params_per_layer
            + self.n_experts_active * self.mlp_params_per_expert
            + self.router_params_per_layer
        )

    @property
    def lm_head_params(self) -> int:
        """Weights of the LM head, ``h V``."""
        return self.hidden_size * self.vocab_size

    @property
    def n_params(self) -> int:
        """Total parameter count (linear layers, all experts, embeddings; norms and biases
        ignored), close to the advertised size."""
        body = self.n_layers * (
            self.attn_params_per_layer
            + self.n_experts * self.mlp_params_per_expert
            + self.router_params_per_layer
        )
        emb = self.vocab_size * self.hidden_size
        return body + emb + (0 if self.tied_embeddings else self.lm_head_params)

    @property
    def kv_bytes_per_token(self) -> float:
        """KV-cache bytes one token occupies: ``2 L k d b_kv``."""
        return 2.0 * self.n_layers * self.kv_dim * self.kv_bytes
