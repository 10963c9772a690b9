using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AdamFamily.Lab.Models;

/// <summary>
/// Word-level LSTM language model, the shape of PyTorch's word_language_model example: embedding → dropout →
/// LSTM (1 or more layers, dropout between layers) → dropout → linear decoder to vocabulary logits.
/// Input token ids are [T, B] (time-major); the output is logits [T, B, V] and the final (h, c), each
/// [layers, B, hidden]. Initialisation as in that example: embedding and decoder weights uniform(−0.1, 0.1),
/// decoder bias 0, the LSTM at PyTorch's default uniform(±1/√hidden). With tied weights the decoder's
/// weight is the embedding's weight (one tensor; Press &amp; Wolf 2017), which needs embedding == hidden.
/// The embedding is a plain parameter [V, E] looked up with index_select (TorchSharp's nn.Embedding is a native
/// module whose weight comes back as a new wrapper on every access, which makes sharing it awkward).
/// </summary>
public sealed class LstmLanguageModel : Module<Tensor, (Tensor H, Tensor C)?, (Tensor Logits, (Tensor H, Tensor C) State)>
{
    private readonly Parameter encoder;
    private readonly Dropout drop;
    private readonly LSTM rnn;
    private readonly Linear decoder;

    /// <exception cref="ArgumentException">A size is not positive, dropout is outside [0, 1), or tied weights with embedding ≠ hidden.</exception>
    public LstmLanguageModel(int vocabSize, int embedding, int hidden, int layers, double dropout, bool tiedWeights) : base(nameof(LstmLanguageModel))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embedding);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hidden);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Dropout must be in [0, 1).");
        if (tiedWeights && embedding != hidden)
            throw new ArgumentException(
                $"Tied weights need embedding size == hidden size (the decoder reuses the {vocabSize}×{embedding} embedding matrix as its " +
                $"{vocabSize}×{hidden} weight); got embedding {embedding}, hidden {hidden}.", nameof(tiedWeights));
        VocabSize = vocabSize;
        EmbeddingSize = embedding;
        HiddenSize = hidden;
        Layers = layers;
        TiedWeights = tiedWeights;

        encoder = new Parameter(empty(vocabSize, embedding));
        drop = Dropout(dropout);
        rnn = LSTM(embedding, hidden, layers, dropout: layers > 1 ? dropout : 0.0);
        decoder = Linear(hidden, vocabSize);
        using (no_grad())
        {
            init.uniform_(encoder, -0.1, 0.1);
            init.zeros_(decoder.bias);
            if (tiedWeights) decoder.weight = encoder;
            else init.uniform_(decoder.weight, -0.1, 0.1);
        }
        RegisterComponents();
    }

    public int VocabSize { get; }
    public int EmbeddingSize { get; }
    public int HiddenSize { get; }
    public int Layers { get; }
    public bool TiedWeights { get; }
    /// <summary>The embedding matrix [V, E] (with tied weights, also the decoder's weight).</summary>
    public Parameter EncoderWeight => encoder;
    public LSTM Rnn => rnn;
    public Linear Decoder => decoder;

    /// <summary>
    /// Builds the model with torch's global RNG seeded with <paramref name="seed"/> right before, serialised with
    /// <see cref="ModelFactory"/>'s seeded builds, so the same seed gives bit-identical initial weights.
    /// </summary>
    public static LstmLanguageModel Create(int vocabSize, int embedding, int hidden, int layers, double dropout, bool tiedWeights, long seed)
    {
        lock (ModelFactory.SeededBuild)
        {
            manual_seed(seed);
            return new LstmLanguageModel(vocabSize, embedding, hidden, layers, dropout, tiedWeights);
        }
    }

    /// <summary>
    /// Every trainable tensor once: with tied weights the shared matrix is listed under both the encoder and
    /// the decoder, and an optimizer must see it once.
    /// </summary>
    public Parameter[] DistinctParameters()
    {
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        return parameters().Where(seen.Add).ToArray();
    }

    /// <summary>
    /// The parameters split for weight decay, as <see cref="AdamFamily.ParameterGroups.DecayAndNoDecay"/> splits image
    /// models: the LSTM's weight matrices and an untied decoder weight decay (the arm's weight_decay); the embedding
    /// (also the decoder's weight when tied) and every bias do not (weight decay 0). Decaying the embedding would
    /// shrink the rows of rare words, which get almost no gradient, towards zero (AdamD at η·σ·ε^(−1/2) per step).
    /// Each tensor is in exactly one group.
    /// </summary>
    public AfmdwOptimizer.ParamGroup[] DecayGroups()
    {
        var noDecay = new HashSet<Parameter>(ReferenceEqualityComparer.Instance) { encoder };
        var decay = new List<Parameter>();
        var exempt = new List<Parameter> { encoder };
        foreach (var (name, p) in named_parameters())
        {
            if (noDecay.Contains(p) || decay.Contains(p, ReferenceEqualityComparer.Instance)) continue;
            bool isBias = p.dim() <= 1 || name.EndsWith("bias", StringComparison.Ordinal) || name.Contains(".bias_", StringComparison.Ordinal);
            if (isBias) { noDecay.Add(p); exempt.Add(p); }
            else decay.Add(p);
        }
        return new[]
        {
            new AfmdwOptimizer.ParamGroup(decay),
            new AfmdwOptimizer.ParamGroup(exempt, new AfmdwOptions { WeightDecay = 0 }),
        };
    }

    /// <summary>Moves the model to <paramref name="device"/>, keeping the decoder tied to the embedding.</summary>
    public LstmLanguageModel MoveTo(Device device)
    {
        this.to(device);
        if (TiedWeights && !ReferenceEquals(decoder.weight, encoder)) decoder.weight = encoder;
        return this;
    }

    /// <summary>Logits [T, B, V] for token ids [T, B], and the LSTM's final state (zeros if <paramref name="state"/> is null).</summary>
    public override (Tensor Logits, (Tensor H, Tensor C) State) forward(Tensor tokens, (Tensor H, Tensor C)? state)
    {
        var emb = drop.call(encoder.index_select(0, tokens.reshape(-1)).view(tokens.shape[0], tokens.shape[1], EmbeddingSize));
        var (output, h, c) = rnn.call(emb, state is { } s ? (s.H, s.C) : null);
        var logits = decoder.call(drop.call(output));
        return (logits, (h, c));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            drop.Dispose();
            rnn.Dispose();
            decoder.Dispose();
        }
        base.Dispose(disposing);
    }
}
