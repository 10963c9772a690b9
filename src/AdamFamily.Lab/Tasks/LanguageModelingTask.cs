using AdamFamily.Lab.Data;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tasks;

/// <summary>Optional callbacks into a language-model run, for tests and tools.</summary>
/// <param name="ModelCreated">The freshly built model, before training.</param>
/// <param name="WindowStart">(epoch, window, the state the window starts from: null at the start of an epoch).</param>
/// <param name="WindowDone">(epoch, window) after the window's step, once its temporaries are freed.</param>
public sealed record LanguageModelObserver(
    Action<LstmLanguageModel>? ModelCreated = null,
    Action<int, int, (Tensor H, Tensor C)?>? WindowStart = null,
    Action<int, int>? WindowDone = null);

/// <summary>
/// Word-level language modelling on a <see cref="TextCorpus"/> with the LSTM of <see cref="LstmLanguageModel"/> and
/// truncated backpropagation through time, as PyTorch's word_language_model example does: the training stream is
/// cut into <c>BatchSize</c> parallel columns [T, B]; each epoch walks them in windows of <c>Bptt</c> steps, carrying
/// the LSTM state from window to window but detached, so gradients stop at the window's start and memory stays flat.
/// Cross-entropy per token; the metric is perplexity, exp(mean token cross-entropy), lower is better, worst = the
/// vocabulary size. Dropout masks come from torch's global generator, seeded from the run's seed before training.
/// The embedding and the biases are not decayed (<see cref="LstmLanguageModel.DecayGroups"/>).
/// </summary>
public sealed class LanguageModelingTask : TrainingTask
{
    private const long DropoutStream = 0x44524F50; // "DROP"
    private readonly ExperimentSettings _settings;
    private readonly LanguageModelSettings _lm;
    private readonly bool _ownsCorpus;
    private readonly Tensor _train, _valid, _test;
    private Tensor? _h, _c;   // the carried state: detached, owned here (outside every dispose scope)
    private int _epoch, _window;

    /// <summary>Batchifies the corpus's splits for the experiment (subsets, batch size, device).</summary>
    /// <param name="corpus">The text.</param>
    /// <param name="settings">The experiment: batch size, subsets, device and <see cref="ExperimentSettings.Lm"/>.</param>
    /// <param name="ownsCorpus">Whether disposing the task disposes the corpus.</param>
    public LanguageModelingTask(TextCorpus corpus, ExperimentSettings settings, bool ownsCorpus = true)
    {
        Corpus = corpus;
        _settings = settings;
        _lm = settings.Lm ?? LanguageModelSettings.Default;
        _lm.Validate();
        _ownsCorpus = ownsCorpus;
        var device = torch.device(settings.Device);
        using var scope = NewDisposeScope();
        _train = Batchify(corpus, corpus.Train, "train", settings.TrainSubset, settings.BatchSize, device).DetachFromDisposeScope();
        _valid = Batchify(corpus, corpus.Valid, "valid", settings.TestSubset, _lm.EvalBatchSize, device).DetachFromDisposeScope();
        _test = Batchify(corpus, corpus.Test, "test", settings.TestSubset, _lm.EvalBatchSize, device).DetachFromDisposeScope();
        Metric = TaskMetric.Perplexity(corpus.Vocab.Count);
    }

    /// <summary>The text.</summary>
    public TextCorpus Corpus { get; }

    /// <summary>Callbacks for tests and tools (null: none).</summary>
    public LanguageModelObserver? Observer { get; init; }

    /// <inheritdoc />
    public override string Description => $"{Corpus.Name}: vocabulary {Corpus.Vocab.Count}, {_train.shape[0] * _train.shape[1]} training tokens in {_train.shape[1]} streams";

    /// <inheritdoc />
    public override TaskMetric Metric { get; }

    /// <inheritdoc />
    public override bool HasValidation => true;

    /// <inheritdoc />
    public override string ValidationDescription => "the corpus's valid split";

    /// <inheritdoc />
    public override int BatchesPerEpoch => (int)((_train.shape[0] - 1 + _lm.Bptt - 1) / _lm.Bptt);

    /// <inheritdoc />
    public override nn.Module CreateModel(int seed)
    {
        var model = LstmLanguageModel.Create(Corpus.Vocab.Count, _lm.Embedding, _lm.Hidden, _lm.Layers, _lm.Dropout, _lm.TiedWeights, seed);
        Observer?.ModelCreated?.Invoke(model);
        return model;
    }

    /// <summary>Moves the model keeping the decoder tied to the embedding.</summary>
    public override void MoveToDevice(nn.Module model, Device device) => ((LstmLanguageModel)model).MoveTo(device);

    /// <summary>Every tensor once (the tied matrix is listed under the encoder and the decoder).</summary>
    public override Parameter[] TrainableParameters(nn.Module model) => ((LstmLanguageModel)model).DistinctParameters();

    /// <summary>The embedding and every bias without weight decay; the LSTM matrices and an untied decoder with the arm's.</summary>
    public override IEnumerable<AfmdwOptimizer.ParamGroup> ParameterGroups(nn.Module model) => ((LstmLanguageModel)model).DecayGroups();

    /// <summary>Seeds torch's global generator for the dropout masks.</summary>
    public override void BeginRun(nn.Module model, int seed) => manual_seed(DeterministicRng.DeriveSeed(seed, DropoutStream));

    /// <inheritdoc />
    public override void BeginEpoch(nn.Module model, int seed, int epoch)
    {
        FreeState();
        (_epoch, _window) = (epoch, 0);
    }

    /// <inheritdoc />
    public override void EndEpoch(nn.Module model) => FreeState();

    /// <summary>The windows of the epoch (views of the batchified stream; the same for every seed: the order is the text's).</summary>
    public override IEnumerable<TaskBatch> TrainingBatches(int seed, int epoch)
    {
        long steps = _train.shape[0];
        int w = 0;
        for (long i = 0; i < steps - 1; i += _lm.Bptt, w++)
        {
            if (w > 0) Observer?.WindowDone?.Invoke(epoch, w - 1);   // the previous window's temporaries are freed by now
            long len = Math.Min(_lm.Bptt, steps - 1 - i);
            using var next = _train.narrow(0, i + 1, len);   // the intermediate view is freed here, not at the end of the run
            yield return new TaskBatch(_train.narrow(0, i, len), next.reshape(-1));
        }
        if (w > 0) Observer?.WindowDone?.Invoke(epoch, w - 1);
    }

    /// <inheritdoc />
    public override BatchLoss TrainingLoss(nn.Module model, TaskBatch batch)
    {
        var lm = (LstmLanguageModel)model;
        Observer?.WindowStart?.Invoke(_epoch, _window++, _h is null ? null : (_h, _c!));
        var (logits, (hn, cn)) = lm.call(batch.Input, _h is null ? null : (_h, _c!));
        var loss = nn.functional.cross_entropy(logits.reshape(-1, lm.VocabSize), batch.Target);
        // Truncation: the next window starts from this state's values, not from its graph.
        var (hd, cd) = (hn.detach().DetachFromDisposeScope(), cn.detach().DetachFromDisposeScope());
        FreeState();
        (_h, _c) = (hd, cd);
        return new BatchLoss(loss, batch.Target.shape[0]);
    }

    /// <summary>Perplexity: exp(mean token cross-entropy).</summary>
    public override double TrainingMetric(double meanLoss, double metricSum, long count) => Math.Exp(meanLoss);

    /// <summary>Perplexity and mean token cross-entropy; a loss whose exp overflows gives an infinite perplexity (the run has diverged).</summary>
    public override Evaluation Evaluate(nn.Module model, DataSplit split)
    {
        double loss = Evaluate((LstmLanguageModel)model, split == DataSplit.Test ? _test : _valid, _lm.Bptt);
        return new Evaluation(Math.Exp(loss), loss);
    }

    /// <summary>
    /// Mean cross-entropy per token of a batchified stream [T, B] in evaluation mode (no dropout), the state
    /// carried across windows of <paramref name="bptt"/> steps. Perplexity is its exp.
    /// </summary>
    public static double Evaluate(LstmLanguageModel model, Tensor data, int bptt)
    {
        model.eval();
        using var _ = no_grad();
        double lossSum = 0;
        long count = 0, steps = data.shape[0];
        Tensor? h = null, c = null;
        try
        {
            for (long i = 0; i < steps - 1; i += bptt)
            {
                using var scope = NewDisposeScope();
                long len = Math.Min(bptt, steps - 1 - i);
                var y = data.narrow(0, i + 1, len).reshape(-1);
                var (logits, (hn, cn)) = model.call(data.narrow(0, i, len), h is null ? null : (h, c!));
                using var sum = nn.functional.cross_entropy(logits.reshape(-1, model.VocabSize), y, reduction: nn.Reduction.Sum).to_type(ScalarType.Float64);
                lossSum += sum.item<double>();
                count += y.shape[0];
                h?.Dispose(); c?.Dispose();
                (h, c) = (hn.DetachFromDisposeScope(), cn.DetachFromDisposeScope());
            }
        }
        finally { h?.Dispose(); c?.Dispose(); }
        return count > 0 ? lossSum / count : double.NaN;
    }

    /// <summary>
    /// The first <paramref name="subset"/> tokens (all if null) of a 1-D stream as <paramref name="columns"/>
    /// parallel streams [T, B] on <paramref name="device"/>: column b holds tokens b·T .. b·T+T−1; the
    /// remainder that does not fill a row is dropped. Registered in the caller's dispose scope.
    /// </summary>
    /// <exception cref="InvalidDataException">Fewer than 2·columns tokens (no window would have a target).</exception>
    public static Tensor Batchify(TextCorpus corpus, Tensor stream, string split, int? subset, int columns, Device device)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        long n = Math.Min(stream.shape[0], subset ?? long.MaxValue);
        long rows = n / columns;
        if (rows < 2)
            throw new InvalidDataException(
                $"{corpus.Name} {split}: {n} tokens are too few for {columns} parallel streams (batch size): need at least {2 * columns}. Use a smaller batch size or a larger subset.");
        return stream.narrow(0, 0, rows * columns).view(columns, rows).t().contiguous().to(device);
    }

    private void FreeState()
    {
        _h?.Dispose(); _c?.Dispose();
        (_h, _c) = (null, null);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            FreeState();
            _train.Dispose(); _valid.Dispose(); _test.Dispose();
            if (_ownsCorpus) Corpus.Dispose();
        }
        base.Dispose(disposing);
    }
}
