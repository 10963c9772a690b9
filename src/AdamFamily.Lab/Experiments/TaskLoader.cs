using AdamFamily.Lab.Data;
using AdamFamily.Lab.Training;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Experiments;

/// <summary>A loaded task that trains one arm with one seed at a time (image classification, language modelling).</summary>
public interface ILabTask : IDisposable
{
    RunResult Train(ExperimentSettings s, ArmSpec arm, int seed, Action<RunProgress>? progress, CancellationToken cancel);

    /// <summary>The value a diverged or failed run counts as: chance accuracy (100/classes %) or the vocabulary size (perplexity).</summary>
    double WorstMetric { get; }
}

/// <summary>Image classification: <see cref="Trainer"/> on an <see cref="ImageTask"/>.</summary>
public sealed class ImageClassification(ImageTask task) : ILabTask
{
    public ImageTask Task { get; } = task;
    public RunResult Train(ExperimentSettings s, ArmSpec arm, int seed, Action<RunProgress>? progress, CancellationToken cancel)
        => Trainer.Run(Task, s, arm, seed, progress, cancel);
    public double WorstMetric => 100.0 / Task.NumClasses;
    public void Dispose() => Task.Dispose();
}

/// <summary>Loads the task an experiment names, normalised and cut to its subsets.</summary>
public static class TaskLoader
{
    public static readonly string[] Tasks = { "fashion-mnist", "synthetic", "cifar10", "cifar100", "ptb", "text" };

    /// <summary>Whether the task's files are present (always true for the synthetic task).</summary>
    public static bool IsAvailable(ExperimentSettings s) => s.Task switch
    {
        "fashion-mnist" => IdxReader.FashionMnistFiles.All(f =>
            File.Exists(Path.Combine(s.DataPath ?? IdxReader.DefaultFashionMnistDir, f)) ||
            File.Exists(Path.Combine(s.DataPath ?? IdxReader.DefaultFashionMnistDir, f + ".gz"))),
        "cifar10" or "cifar100" => s.DataPath is not null && Directory.Exists(s.DataPath),
        "ptb" => s.DataPath is not null && CorpusReader.HasPtbFiles(s.DataPath),
        "text" => LanguageModelTask.TextPath(s) is { } p && (File.Exists(p) || Directory.Exists(p)),
        _ => true,
    };

    /// <summary>Loads the experiment's task, ready to train arms on.</summary>
    public static ILabTask Load(ExperimentSettings s) => s.IsLanguageModel ? LanguageModelTask.Load(s) : new ImageClassification(LoadImages(s));

    /// <summary>Loads an image-classification task, normalised and cut to the experiment's subsets.</summary>
    public static ImageTask LoadImages(ExperimentSettings s)
    {
        ImageTask raw = s.Task switch
        {
            "fashion-mnist" => IdxReader.LoadFashionMnist(s.DataPath ?? IdxReader.DefaultFashionMnistDir),
            "cifar10" => CifarReader.LoadCifar10(s.DataPath ?? throw new ArgumentException("cifar10 needs --data DIR (the folder with cifar-10-batches-bin).", "data")),
            "cifar100" => CifarReader.LoadCifar100(s.DataPath ?? throw new ArgumentException("cifar100 needs --data DIR (the folder with cifar-100-binary).", "data")),
            "synthetic" => SyntheticImageTask.Create(new SyntheticImageOptions { Seed = 0 }),
            _ => throw new ArgumentException($"unknown task '{s.Task}'. Known: {string.Join(", ", Tasks)}.", "task"),
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
