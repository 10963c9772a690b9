using AdamFamily.Lab.Data;

namespace AdamFamily.Lab.Experiments;

/// <summary>
/// The language-model part of an experiment (tasks "ptb" and "text"): the LSTM's sizes, truncated
/// backpropagation through time, and how plain text is cut into a vocabulary and splits.
/// <see cref="ExperimentSettings.BatchSize"/> is the number of parallel token streams of training;
/// <see cref="ExperimentSettings.TrainSubset"/> / <see cref="ExperimentSettings.TestSubset"/> keep the first N
/// tokens of the training / the validation and test streams. Defaults are the PyTorch word_language_model
/// example's (2 layers of 200, dropout 0.2, bptt 35).
/// </summary>
public sealed record LanguageModelSettings
{
    /// <summary>Word embedding size.</summary>
    public int Embedding { get; init; } = 200;
    /// <summary>LSTM hidden size (every layer).</summary>
    public int Hidden { get; init; } = 200;
    /// <summary>Number of LSTM layers.</summary>
    public int Layers { get; init; } = 2;
    /// <summary>Dropout on the embeddings, between LSTM layers and on the LSTM output.</summary>
    public double Dropout { get; init; } = 0.2;
    /// <summary>Decoder weight = embedding weight (needs <see cref="Embedding"/> == <see cref="Hidden"/>).</summary>
    public bool TiedWeights { get; init; }
    /// <summary>Truncated-BPTT window: time steps per optimizer step.</summary>
    public int Bptt { get; init; } = 35;
    /// <summary>Parallel streams when evaluating validation and test perplexity.</summary>
    public int EvalBatchSize { get; init; } = 10;
    /// <summary>Plain text only: the largest vocabulary, &lt;unk&gt; and &lt;eos&gt; included (0 = every training word). PTB's vocabulary is fixed by its files.</summary>
    public int MaxVocab { get; init; } = 10000;
    /// <summary>Plain text only: training words seen fewer times become &lt;unk&gt;.</summary>
    public int MinCount { get; init; } = 1;
    /// <summary>Plain text only: train / valid / test fractions of the lines, in order (null = 0.8 / 0.1 / 0.1).</summary>
    public double[]? SplitFractions { get; init; }

    public static readonly LanguageModelSettings Default = new();

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the setting and the value.</summary>
    /// <summary>The deepest LSTM a comparison may ask for.</summary>
    public const int MaxLayers = 64;

    /// <summary>The most LSTM weights (10⁹: 4 GB in float32, three times that with an optimizer's state).</summary>
    public const double MaxLstmParameters = 1e9;

    public void Validate()
    {
        if (Embedding < 1) throw new ArgumentOutOfRangeException("embedding", Embedding, $"embedding = {Embedding}: must be ≥ 1.");
        if (Hidden < 1) throw new ArgumentOutOfRangeException("hidden", Hidden, $"hidden = {Hidden}: must be ≥ 1.");
        if (Layers < 1) throw new ArgumentOutOfRangeException("layers", Layers, $"layers = {Layers}: must be ≥ 1.");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentOutOfRangeException("dropout", Dropout, $"dropout = {Dropout}: must be in [0, 1).");
        if (TiedWeights && Embedding != Hidden)
            throw new ArgumentException($"tied weights need embedding size == hidden size; got embedding {Embedding}, hidden {Hidden}.", "tied_weights");
        if (Layers > MaxLayers) throw new ArgumentOutOfRangeException("layers", Layers, $"layers = {Layers}: at most {MaxLayers} (a deeper LSTM builds and trains for hours before anything is recorded).");
        // The LSTM's weights, 4·h·(input + h + 2) per layer: refuse what cannot fit rather than fail (or swap) inside every run.
        double lstm = 4.0 * Hidden * (Embedding + Hidden + 2) + (Layers - 1) * 4.0 * Hidden * (2.0 * Hidden + 2);
        if (lstm > MaxLstmParameters)
            throw new ArgumentOutOfRangeException("hidden", Hidden, $"hidden = {Hidden}, embedding = {Embedding}, layers = {Layers}: the LSTM alone would have {lstm:G3} weights; at most {MaxLstmParameters:G3}.");
        if (Bptt < 1) throw new ArgumentOutOfRangeException("bptt", Bptt, $"bptt = {Bptt}: must be ≥ 1.");
        if (EvalBatchSize < 1) throw new ArgumentOutOfRangeException("eval_batch_size", EvalBatchSize, $"eval_batch_size = {EvalBatchSize}: must be ≥ 1.");
        if (MaxVocab is < 0 or 1) throw new ArgumentOutOfRangeException("max_vocab", MaxVocab, $"max_vocab = {MaxVocab}: must be 0 (no limit) or ≥ 2.");
        if (MinCount < 1) throw new ArgumentOutOfRangeException("min_count", MinCount, $"min_count = {MinCount}: must be ≥ 1.");
        if (SplitFractions is { } f) CorpusReader.CheckFractions(f);
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"LSTM {Layers}×{Hidden}, embedding {Embedding}{(TiedWeights ? " tied" : "")}, dropout {Dropout}, bptt {Bptt}";
}
