using AdamFamily.Lab.Data;
using AdamFamily.Lab.Tasks;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Experiments;

/// <summary>A kind of task the lab knows by name (<c>--task NAME</c>): how to load it, and whether its files are present.</summary>
/// <param name="Name">The name <c>--task</c> takes.</param>
/// <param name="Load">Builds the task for an experiment (reads and checks its data).</param>
/// <param name="IsAvailable">Whether the task's files are present without loading them (the synthetic task: always).</param>
/// <param name="Summary">One line for <c>afm compare --help</c> and the docs.</param>
public sealed record TaskKind(string Name, Func<ExperimentSettings, TrainingTask> Load, Func<ExperimentSettings, bool> IsAvailable, string Summary);

/// <summary>
/// The registry of task kinds, and loading the task an experiment names. Every kind is a <see cref="TrainingTask"/>;
/// the runners know nothing else about it. A new kind is one <see cref="TaskKind"/> line in <see cref="Kinds"/>.
/// </summary>
public static class TaskLoader
{
    /// <summary>Every task kind by name.</summary>
    public static readonly IReadOnlyList<TaskKind> Kinds =
    [
        new("fashion-mnist", s => ImageTaskOf(s), s => IdxReader.FashionMnistFiles.All(f =>
                File.Exists(Path.Combine(s.DataPath ?? IdxReader.DefaultFashionMnistDir, f)) ||
                File.Exists(Path.Combine(s.DataPath ?? IdxReader.DefaultFashionMnistDir, f + ".gz"))),
            "Fashion-MNIST (IDX files; default /usr/share/datasets/fashion-mnist)"),
        new("synthetic", s => ImageTaskOf(s), _ => true, "a built-in 10-class image task that reads no files"),
        new("cifar10", s => ImageTaskOf(s), s => s.DataPath is not null && Directory.Exists(s.DataPath), "CIFAR-10 binary version (--data DIR)"),
        new("cifar100", s => ImageTaskOf(s), s => s.DataPath is not null && Directory.Exists(s.DataPath), "CIFAR-100 binary version (--data DIR)"),
        new("ptb", LanguageModelTask.Load, s => s.DataPath is not null && CorpusReader.HasPtbFiles(s.DataPath), "word-level Penn Treebank language modelling (--data DIR)"),
        new(PluginSettings.TaskName, PluginTasks.Load, s => s.Plugin is { } p && File.Exists(p.Assembly.Path), "a task of your own from a .NET assembly (--task-assembly PATH.dll --task-type NAME)"),
        new("text", LanguageModelTask.Load, s => LanguageModelTask.TextPath(s) is { } p && (File.Exists(p) || Directory.Exists(p)), "language modelling on any plain text (--data FILE|DIR)"),
    ];

    /// <summary>The task names <c>--task</c> takes.</summary>
    public static IReadOnlyList<string> Tasks { get; } = Kinds.Select(k => k.Name).ToArray();

    /// <summary>The kind an experiment names.</summary>
    /// <exception cref="ArgumentException">An unknown task name.</exception>
    public static TaskKind KindOf(ExperimentSettings s) => Kinds.FirstOrDefault(k => k.Name == s.Task)
        ?? throw new ArgumentException($"unknown task '{s.Task}'. Known: {string.Join(", ", Tasks)}.", "task");

    /// <summary>
    /// Whether a task's code or model was not written by the lab (a plugin): such a task is probed
    /// (<see cref="TaskProbe.Check"/>) before anything is written.
    /// </summary>
    public static bool NeedsProbe(ExperimentSettings s) => s.Plugin is not null;

    /// <summary>Whether the task's files are present (always true for the synthetic task).</summary>
    public static bool IsAvailable(ExperimentSettings s) => KindOf(s).IsAvailable(s);

    /// <summary>How messages name the experiment's task: "task type 'NS.Name' in 'plugin.dll'", or "task 'csv'".</summary>
    public static string Owner(ExperimentSettings s) =>
        s.Plugin is { } p ? $"task type '{p.Type}' in '{Path.GetFileName(p.Assembly.Path)}'" : $"task '{s.Task}'";

    /// <summary>
    /// Loads the experiment's task, ready to train arms on, and checks its metric declaration. Settings from a plan (a
    /// worker's, a resume's) carry the fingerprints of the files the task read: a file changed since is refused first.
    /// </summary>
    /// <exception cref="InvalidDataException">A recorded file changed or is gone.</exception>
    public static TrainingTask Load(ExperimentSettings s)
    {
        foreach (var f in s.Files ?? []) f.Verify("data file");
        var task = KindOf(s).Load(s);
        try { (task.Metric ?? throw new ArgumentException($"{Owner(s)}: Metric is null; a task must declare the metric it is judged by.")).Check(Owner(s)); }
        catch (Exception e) when (e is not ArgumentException && s.Plugin is not null)
        {
            task.Dispose();
            throw new ArgumentException($"{Owner(s)}: reading its Metric failed: {e.GetType().Name}: {e.Message}", "task-type", e);
        }
        catch { task.Dispose(); throw; }
        return task;
    }

    private static ImageClassificationTask ImageTaskOf(ExperimentSettings s) => new(LoadImages(s), s);

    /// <summary>Loads an image-classification task, normalised and cut to the experiment's subsets.</summary>
    public static ImageTask LoadImages(ExperimentSettings s)
    {
        ImageTask raw = s.Task switch
        {
            "fashion-mnist" => IdxReader.LoadFashionMnist(s.DataPath ?? IdxReader.DefaultFashionMnistDir),
            "cifar10" => CifarReader.LoadCifar10(s.DataPath ?? throw new ArgumentException("cifar10 needs --data DIR (the folder with cifar-10-batches-bin).", "data")),
            "cifar100" => CifarReader.LoadCifar100(s.DataPath ?? throw new ArgumentException("cifar100 needs --data DIR (the folder with cifar-100-binary).", "data")),
            "synthetic" => SyntheticImageTask.Create(new SyntheticImageOptions { Seed = 0 }),
            _ => throw new ArgumentException($"task '{s.Task}' is not an image-classification task.", "task"),
        };
        var (mean, std) = s.Task switch
        {
            "fashion-mnist" => (Transforms.FashionMnistMean, Transforms.FashionMnistStd),
            "cifar10" => (Transforms.Cifar10Mean, Transforms.Cifar10Std),
            "cifar100" => (Transforms.Cifar100Mean, Transforms.Cifar100Std),
            _ => ((float[]?)null, (float[]?)null),
        };
        var task = HoldOut(raw, s);
        if (task.Train.Count == 0 || task.Test.Count == 0)
        {
            var empty = task.Train.Count == 0 ? "training" : "test";
            task.Dispose();
            throw new InvalidDataException($"{s.Task}{(s.DataPath is null ? "" : $" ('{s.DataPath}')")}: the {empty} set has 0 records; it needs at least one.");
        }
        if (mean is null) return task;
        using (task)
        {
            LabDataset Norm(LabDataset d) => new(d.Name, Transforms.Normalize(d.Inputs, mean, std!).DetachFromDisposeScope(), d.Labels.clone().DetachFromDisposeScope(), task.NumClasses);
            var train = Norm(task.Train);
            var test = Norm(task.Test);
            return new ImageTask(task.Name, train, test, task.Validation is null ? null : Norm(task.Validation))
            {
                BlackPixel = Transforms.BlackAfterNormalisation(mean, std!),   // crop padding is black, as torchvision pads before normalising
            };
        }
    }

    /// <summary>
    /// Cuts the validation split off the end of the training set (the last <see cref="ExperimentSettings.ValidationCount"/>
    /// examples), then the train / test subsets from the front of what is left. Disposes <paramref name="raw"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The hold-out is as large as the training set or larger.</exception>
    public static ImageTask HoldOut(ImageTask raw, ExperimentSettings s)
    {
        using (raw)
        {
            int v = s.ValidationCount, n = raw.Train.Count;
            if (v >= n)
                throw new ArgumentException($"--validation {v}: the {raw.Name} training set has only {n} examples; the validation hold-out must leave some to train on (use a smaller --validation, or 0 for none).", "validation");
            int trainCount = Math.Min(s.TrainSubset ?? n - v, n - v), testCount = Math.Min(s.TestSubset ?? raw.Test.Count, raw.Test.Count);
            var train = raw.Train.Slice(0, trainCount, trainCount == n ? raw.Train.Name : $"{raw.Train.Name}[:{trainCount}]");
            LabDataset? test = null, valid = null;
            try
            {
                test = raw.Test.Slice(0, testCount, testCount == raw.Test.Count ? raw.Test.Name : $"{raw.Test.Name}[:{testCount}]");
                if (v > 0) valid = raw.Train.Slice(n - v, v, $"{raw.Train.Name}[{n - v}:] (validation)");
                return new ImageTask(raw.Name, train, test, valid);
            }
            catch { train.Dispose(); test?.Dispose(); valid?.Dispose(); throw; }
        }
    }
}
