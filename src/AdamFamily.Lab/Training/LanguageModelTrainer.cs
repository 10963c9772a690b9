using System.Diagnostics;
using AdamFamily.Lab.Data;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Training;

/// <summary>Optional callbacks into a language-model run, for tests and tools.</summary>
/// <param name="ModelCreated">The freshly built model, before training.</param>
/// <param name="WindowStart">(epoch, window, the state the window starts from: null at the start of an epoch).</param>
/// <param name="WindowDone">(epoch, window) after the window's step, once its temporaries are freed.</param>
public sealed record LanguageModelObserver(
    Action<LstmLanguageModel>? ModelCreated = null,
    Action<int, int, (Tensor H, Tensor C)?>? WindowStart = null,
    Action<int, int>? WindowDone = null);

/// <summary>
/// Trains the LSTM language model of an experiment on a <see cref="TextCorpus"/> with truncated
/// backpropagation through time, the way PyTorch's word_language_model example does: the training stream is
/// cut into <c>BatchSize</c> parallel columns [T, B]; each epoch walks them in windows of <c>Bptt</c> steps,
/// carrying the LSTM state from window to window but detached, so gradients stop at the window's start and
/// memory stays flat. Cross-entropy per token, gradient clipping, the arm's optimizer, an lr schedule stepped
/// per epoch. Perplexity = exp(mean token cross-entropy); a run whose loss or gradient becomes non-finite, or whose
/// validation or test perplexity overflows, is recorded as diverged at that epoch.
/// Deterministic for a seed: the seed fixes the initial weights (the same in every arm) and, through torch's
/// global generator seeded right before training, the dropout masks.
/// </summary>
public static class LanguageModelTrainer
{
    private const long DropoutStream = 0x44524F50; // "DROP"

    public static RunResult Run(TextCorpus corpus, ExperimentSettings s, ArmSpec arm, int seed,
        Action<RunProgress>? progress = null, CancellationToken cancel = default, LanguageModelObserver? observer = null)
    {
        var lm = s.Lm ?? LanguageModelSettings.Default;
        lm.Validate();
        using var scope = NewDisposeScope();
        var device = torch.device(s.Device);
        var train = Batchify(corpus, corpus.Train, "train", s.TrainSubset, s.BatchSize, device);
        var valid = Batchify(corpus, corpus.Valid, "valid", s.TestSubset, lm.EvalBatchSize, device);
        var test = Batchify(corpus, corpus.Test, "test", s.TestSubset, lm.EvalBatchSize, device);

        using var model = LstmLanguageModel.Create(corpus.Vocab.Count, lm.Embedding, lm.Hidden, lm.Layers, lm.Dropout, lm.TiedWeights, seed);
        model.MoveTo(device); // before the optimizer, so its state is created on the device
        observer?.ModelCreated?.Invoke(model);
        var parameters = model.DistinctParameters();
        using var opt = TrainingSupport.CreateOptimizer(arm, model.DecayGroups());   // embedding and biases: no weight decay
        var scheduler = TrainingSupport.CreateScheduler(opt, s);

        long steps = train.shape[0];
        int windows = (int)((steps - 1 + lm.Bptt - 1) / lm.Bptt);
        manual_seed(DeterministicRng.DeriveSeed(seed, DropoutStream));

        var epochs = new List<EpochMetrics>();
        for (int epoch = 0; epoch < s.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            var optClock = new Stopwatch();
            double lr = opt.Groups[0].LearningRate, lossSum = 0, stationarity = double.NaN;
            long tokens = 0;
            bool diverged = false;
            model.train();
            Tensor? h = null, c = null; // the carried state: detached, owned here (outside every dispose scope)
            try
            {
                int w = 0;
                for (long i = 0; i < steps - 1; i += lm.Bptt, w++)
                {
                    cancel.ThrowIfCancellationRequested();
                    observer?.WindowStart?.Invoke(epoch, w, h is null ? null : (h, c!));
                    using (var windowScope = NewDisposeScope())
                    {
                        long len = Math.Min(lm.Bptt, steps - 1 - i);
                        var x = train.narrow(0, i, len);
                        var y = train.narrow(0, i + 1, len).reshape(-1);
                        opt.zero_grad();
                        var (logits, (hn, cn)) = model.call(x, h is null ? null : (h, c!));
                        var loss = nn.functional.cross_entropy(logits.reshape(-1, model.VocabSize), y);
                        double lossValue = loss.item<float>();
                        if (!double.IsFinite(lossValue)) { diverged = true; break; }
                        loss.backward();
                        if (!TrainingSupport.Step(opt, parameters, s.ClipGradNorm, w == windows - 1, optClock, ref stationarity)) { diverged = true; break; }
                        lossSum += lossValue * y.shape[0];
                        tokens += y.shape[0];
                        // Truncation: the next window starts from this state's values, not from its graph.
                        var (hd, cd) = (hn.detach().DetachFromDisposeScope(), cn.detach().DetachFromDisposeScope());
                        h?.Dispose(); c?.Dispose();
                        (h, c) = (hd, cd);
                    }
                    observer?.WindowDone?.Invoke(epoch, w);
                    progress?.Invoke(new RunProgress(arm.Name, seed, epoch, s.Epochs, w + 1, windows));
                }
            }
            finally { h?.Dispose(); c?.Dispose(); }
            scheduler?.step();

            double validLoss = double.NaN, testLoss = double.NaN;
            if (!diverged)
            {
                validLoss = Evaluate(model, valid, lm.Bptt);
                testLoss = Evaluate(model, test, lm.Bptt);
                // A loss beyond ~709 nats per token is finite but its perplexity is not: that run has diverged too.
                diverged = !double.IsFinite(Math.Exp(validLoss)) || !double.IsFinite(Math.Exp(testLoss));
            }
            clock.Stop();
            double trainLoss = tokens > 0 ? lossSum / tokens : double.NaN;
            epochs.Add(new EpochMetrics(epoch + 1, trainLoss, Math.Exp(trainLoss), testLoss, Math.Exp(testLoss),
                lr, TrainingSupport.WeightNorm(parameters), stationarity, clock.Elapsed.TotalSeconds, optClock.Elapsed.TotalSeconds, diverged,
                ValidMetric: Math.Exp(validLoss)));
            if (diverged) break;
        }
        return new RunResult(arm.Name, seed, epochs, WorstMetric: corpus.Vocab.Count);
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
}
