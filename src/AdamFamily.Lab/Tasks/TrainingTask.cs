using AdamFamily.Lab.Experiments;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tasks;

/// <summary>Which held-out split an evaluation reads.</summary>
public enum DataSplit
{
    /// <summary>The validation split: what epoch selection and tuning look at.</summary>
    Validation,
    /// <summary>The test split: what the verdicts are computed on; never used for selection.</summary>
    Test,
}

/// <summary>
/// One training mini-batch: the model's input and the target the loss compares the output with. The tensors are
/// owned by whoever enumerates them (the trainer disposes them with the batch's dispose scope).
/// </summary>
public readonly record struct TaskBatch(Tensor Input, Tensor Target);

/// <summary>
/// The loss of one training batch (a scalar tensor with its graph, to be back-propagated), how many examples (or
/// tokens) it averages over, and the batch's contribution to the epoch's training metric
/// (<see cref="TrainingTask.TrainingMetric"/> turns the sums into the metric; NaN when the task does not count one).
/// </summary>
public readonly record struct BatchLoss(Tensor Loss, long Count, double MetricSum = double.NaN);

/// <summary>The task's metric and mean loss on one split.</summary>
public readonly record struct Evaluation(double Metric, double Loss);

/// <summary>
/// What a task is judged by: the metric's name and unit, its direction, and the <see cref="Worst"/> value a diverged
/// or failed run enters its pair with. The verdicts, tables, plots and reports read these, never a task's name.
/// </summary>
/// <param name="Name">What is measured, e.g. "accuracy", "perplexity", "RMSE".</param>
/// <param name="Unit">Its unit, e.g. "%" (empty when it has none).</param>
/// <param name="HigherIsBetter">True for accuracy, false for a loss, an error or a perplexity.</param>
/// <param name="Worst">The value a run that diverged or failed counts as (chance accuracy, the uniform model's perplexity, …).</param>
/// <param name="WorstMeaning">What <paramref name="Worst"/> is, in words, for the verdict footnote ("chance accuracy, 100/classes").</param>
/// <param name="MarginUnit">The unit a non-inferiority margin is given in ("pp" for a percentage; by default the metric's unit).</param>
/// <param name="MarginLimit">A margin at or above this is refused (100 for a percentage, which it would make every arm non-inferior); null for none.</param>
public sealed record TaskMetric(string Name, string Unit, bool HigherIsBetter, double Worst, string WorstMeaning,
    string? MarginUnit = null, double? MarginLimit = null)
{
    /// <summary>Accuracy in percent over <paramref name="classes"/> classes; worst = chance, 100/classes.</summary>
    public static TaskMetric Accuracy(int classes) =>
        new("accuracy", "%", true, 100.0 / classes, $"chance accuracy, 100/classes = {Num(100.0 / classes, "G4")} %", "pp", 100);

    /// <summary>Perplexity over a vocabulary of <paramref name="vocabulary"/> words; worst = the uniform model's, the vocabulary size.</summary>
    public static TaskMetric Perplexity(int vocabulary) =>
        new("perplexity", "", false, vocabulary, $"the uniform model's perplexity, the vocabulary size ({Num(vocabulary, "G6")})", "ppl");

    /// <summary>"test accuracy (%)", "validation perplexity": the metric on a split, with its unit.</summary>
    public string On(string split) => $"{split} {Name}{(Unit.Length == 0 ? "" : $" ({Unit})")}";

    /// <summary>The unit of a margin: <see cref="MarginUnit"/>, else the metric's own unit.</summary>
    public string MarginUnitOrUnit => MarginUnit ?? Unit;

    /// <summary>Checks the declaration (a plugin's too): a name, and a finite worst value.</summary>
    /// <exception cref="ArgumentException">What is wrong, naming <paramref name="owner"/>.</exception>
    public void Check(string owner)
    {
        if (string.IsNullOrWhiteSpace(Name)) throw new ArgumentException($"{owner}: the metric has no name.");
        if (Unit is null || WorstMeaning is null) throw new ArgumentException($"{owner}: metric '{Name}': unit and worst_meaning must not be null.");
        if (!double.IsFinite(Worst)) throw new ArgumentException($"{owner}: metric '{Name}': the worst value a diverged run counts as must be a finite number, not {Num(Worst, "G6")}.");
        if (MarginLimit is { } l && !(l > 0 && double.IsFinite(l))) throw new ArgumentException($"{owner}: metric '{Name}': margin_limit must be a finite number > 0.");
    }

    private static string Num(double x, string f) => x.ToString(f, System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// The task contract: everything the lab's runners need to train one arm with one seed and judge it — and nothing
/// more. The built-in tasks (image classification, language modelling, the synthetic task) and a user's own task
/// (a plugin DLL, or an object handed to the library API) are all implementations of this one class, trained by the
/// one <see cref="Training.Trainer"/>.
/// <para>
/// Fairness rests on three promises an implementation must keep: <see cref="CreateModel"/> gives the same initial
/// weights for the same seed, whatever the arm; <see cref="TrainingBatches"/> is a pure function of (seed, epoch),
/// augmentation included, so paired arms see identical data; and <see cref="Evaluate"/> never changes the model.
/// A task instance trains one run at a time (runs in a process follow each other) and is disposed once, at the end.
/// </para>
/// </summary>
public abstract class TrainingTask : IDisposable
{
    /// <summary>A short description for logs and reports, e.g. "fashion-mnist: train 50000, validation 10000, test 10000".</summary>
    public abstract string Description { get; }

    /// <summary>The metric the runs are judged by.</summary>
    public abstract TaskMetric Metric { get; }

    /// <summary>
    /// The files the task read (data files, a model file), recorded with their size and SHA-256 in experiment.json
    /// (<see cref="Experiments.FileFingerprint"/>) so that a resume or a worker refuses when one changed since the plan was
    /// made. Empty by default.
    /// </summary>
    public virtual IEnumerable<string> InputFiles => [];

    /// <summary>Whether there is a validation split (<see cref="DataSplit.Validation"/>); epoch selection and tuning need one.</summary>
    public abstract bool HasValidation { get; }

    /// <summary>What the validation split is, for the verdict footnote ("the last 10000 training examples (held out)").</summary>
    public virtual string ValidationDescription => "the validation split";

    /// <summary>Training batches per epoch (progress, and the epoch's last batch for the stationarity measure).</summary>
    public abstract int BatchesPerEpoch { get; }

    /// <summary>
    /// The shape of one example's model output without the batch dimension (e.g. [classes], or [horizon]), which a
    /// user's model (a plugin's, a TorchScript file) is checked against before anything runs; null when not checked.
    /// </summary>
    public virtual long[]? OutputShape => null;

    /// <summary>The model for <paramref name="seed"/>, on the CPU: the same initial weights in every arm for a given seed.</summary>
    public abstract nn.Module CreateModel(int seed);

    /// <summary>Moves a model built by <see cref="CreateModel"/> to the run's device (before the optimizer is built).</summary>
    public virtual void MoveToDevice(nn.Module model, Device device) => model.to(device);

    /// <summary>
    /// The parameters to optimize, each once (weight tying must not list a tensor twice): by default every parameter of
    /// the model that requires a gradient.
    /// </summary>
    public virtual Parameter[] TrainableParameters(nn.Module model)
    {
        var seen = new HashSet<IntPtr>();
        return model.parameters().Where(p => p.requires_grad && seen.Add(p.Handle)).ToArray();
    }

    /// <summary>
    /// The optimizer's parameter groups: by default the library's split (<see cref="ParameterGroups.DecayAndNoDecay"/>:
    /// biases and normalisation layers are not decayed). A group's own options override the arm's.
    /// </summary>
    public virtual IEnumerable<AfmdwOptimizer.ParamGroup> ParameterGroups(nn.Module model) => AdamFamily.ParameterGroups.DecayAndNoDecay(model);

    /// <summary>Called once per run, after the model and the optimizer are built and before the first epoch (e.g. to seed dropout).</summary>
    public virtual void BeginRun(nn.Module model, int seed) { }

    /// <summary>Called at the start of every epoch, after <c>model.train()</c> (e.g. to reset a state carried across batches).</summary>
    public virtual void BeginEpoch(nn.Module model, int seed, int epoch) { }

    /// <summary>Called at the end of every epoch's training pass, also when it stopped early (e.g. to free a carried state).</summary>
    public virtual void EndEpoch(nn.Module model) { }

    /// <summary>
    /// The training batches of one epoch for <paramref name="seed"/>: a pure function of (seed, epoch), so every arm with
    /// that seed sees the same batches in the same order, with the same augmentation. Tensors on the CPU or on
    /// <see cref="TaskContext.Device"/>; the trainer moves them to the run's device.
    /// </summary>
    public abstract IEnumerable<TaskBatch> TrainingBatches(int seed, int epoch);

    /// <summary>The forward pass and loss of one training batch (the model is in training mode).</summary>
    public abstract BatchLoss TrainingLoss(nn.Module model, TaskBatch batch);

    /// <summary>
    /// The epoch's training metric from the sums of its batches: by default ΣMetricSum / ΣCount (e.g. percent correct);
    /// a perplexity task returns exp(mean loss).
    /// </summary>
    public virtual double TrainingMetric(double meanLoss, double metricSum, long count) => count > 0 ? metricSum / count : double.NaN;

    /// <summary>The metric and mean loss on a held-out split, in evaluation mode and without gradients; must not change the model.</summary>
    public abstract Evaluation Evaluate(nn.Module model, DataSplit split);

    /// <summary>Gradient clipping the task asks for (the experiment's <c>--clip</c> wins when given); null for none.</summary>
    public virtual double? ClipGradNorm => null;

    /// <summary>
    /// An optional learning-rate factor per optimizer step (warm-up, decay by step): multiplies the arm's initial lr
    /// before step <paramref name="step"/> (0-based, counted over the run), on top of the experiment's per-epoch schedule.
    /// Null (the default) leaves the lr to that schedule.
    /// </summary>
    public virtual double? LearningRateFactor(long step, int epoch) => null;

    /// <summary>Frees the task's data.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the task's data (override to dispose tensors the task holds).</summary>
    protected virtual void Dispose(bool disposing) { }
}
