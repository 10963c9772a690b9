using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Tasks;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Execution;

/// <summary>
/// Runs one unit in this process: what <c>afm worker</c>, the in-process executor and every array task of a Slurm job
/// do. The unit's threads are pinned (LibTorch's intra-op pool and the fused kernel), so a unit's result depends on
/// its settings, index and thread count only, not on what executes it.
/// </summary>
public static class UnitRunner
{
    /// <summary>
    /// The most LibTorch threads a unit may pin: LibTorch starts that many threads at once, and far more (10⁵) hangs the
    /// process instead of failing.
    /// </summary>
    public const int MaxThreads = 256;

    /// <summary>Checks a thread count (1 … <see cref="MaxThreads"/>); the message names <paramref name="option"/> and the value.</summary>
    public static int CheckThreads(int threads, string option = "--threads-per-run") =>
        threads is >= 1 and <= MaxThreads ? threads
            : throw new ArgumentOutOfRangeException(option, threads, $"{option} {threads}: must be from 1 to {MaxThreads} (LibTorch threads per run).");

    /// <summary>Pins LibTorch's intra-op threads and the optimizer kernel's threads until disposed.</summary>
    public static IDisposable PinThreads(int threads)
    {
        CheckThreads(threads);
        int before = TorchSharp.torch.get_num_threads();
        var kernelBefore = TrainingSupport.KernelThreads;
        TorchSharp.torch.set_num_threads(threads);
        TrainingSupport.KernelThreads = threads;
        return new Restore(() => { TorchSharp.torch.set_num_threads(before); TrainingSupport.KernelThreads = kernelBefore; });
    }

    /// <summary>
    /// Trains the unit on a loaded task. An error inside the run (e.g. the optimizer's stability refusal) does not
    /// escape: it becomes a failed <see cref="RunResult"/> with the reason and the epoch it happened in, so the
    /// comparison keeps the run and goes on. Cancellation does escape.
    /// </summary>
    public static RunResult Train(TrainingTask task, ExperimentSettings s, RunUnit unit, Action<RunProgress>? progress, CancellationToken cancel)
    {
        // The epoch in progress (1-based): after an epoch's last batch, the next one (a refused lr change shows at its first step).
        int epoch = 1;
        try
        {
            return Trainer.Run(task, s, unit.Arm, unit.Seed, p => { epoch = Math.Min(s.Epochs, p.Batch == p.Batches ? p.Epoch + 2 : p.Epoch + 1); progress?.Invoke(p); }, cancel);
        }
        catch (OperationCanceledException) { throw; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new RunResult(unit.Arm.Name, unit.Seed, Array.Empty<EpochMetrics>(), task.Metric.Worst)
            {
                Failure = new RunFailure($"{e.GetType().Name}: {e.Message}", epoch),
            };
        }
    }

    /// <summary>
    /// What <c>afm worker --plan P --unit I</c> does: checks the plan (and, when given, that it is the plan the job was
    /// submitted with), the settings file against the plan's hash, skips a unit whose result is already there, else trains
    /// it and writes its result atomically. Returns the result and whether it was already there.
    /// Bad or changed input throws <see cref="InvalidDataException"/> / <see cref="ArgumentException"/> before anything is written.
    /// </summary>
    public static (RunResult Result, bool AlreadyDone) RunFromPlan(string planPath, int index, string? expectedPlanHash, int? threads,
        Action<RunProgress>? progress, CancellationToken cancel)
    {
        planPath = Path.GetFullPath(planPath);
        if (threads is { } given) CheckThreads(given, "--threads");   // before anything, also for a unit already done
        var plan = RunPlan.Load(planPath);
        if (expectedPlanHash is not null && expectedPlanHash != plan.PlanHash)
            throw new InvalidDataException($"{planPath} changed after this job was submitted (plan hash {Short(plan.PlanHash)}, the job expects {Short(expectedPlanHash)}); " +
                                           "nothing was run. Rerun the afm command to submit the current plan.");
        if (index < 0 || index >= plan.Units.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"--unit {index}: the plan has units 0..{plan.Units.Length - 1}.");
        var dir = Path.GetDirectoryName(planPath)!;
        var settingsPath = Path.Combine(dir, plan.SettingsFile);
        if (!File.Exists(settingsPath)) throw new InvalidDataException($"{settingsPath} (named by {planPath}) does not exist.");
        var settingsText = File.ReadAllText(settingsPath);
        if (RunPlan.Sha256(settingsText) != plan.SettingsHash)
            throw new InvalidDataException($"{settingsPath} changed after the plan was made (its hash no longer matches {planPath}); nothing was run. Rerun the afm command that made the plan.");
        var settings = ExperimentSettings.FromJson(settingsText, settingsPath);
        var unit = plan.Units[index];
        var store = new ResultStore(dir);
        if (store.TryLoadUnit(unit, plan.SettingsHash) is { } done) return (done, true);

        int t = CheckThreads(threads ?? plan.ThreadsPerRun, threads is null ? $"{planPath}: threads_per_run" : "--threads");
        using var pin = PinThreads(t);
        using var task = TaskLoader.Load(settings);
        var run = Train(task, settings, unit, progress, cancel);
        store.SaveUnit(unit, plan.SettingsHash, run, t);
        return (run, false);
    }

    internal static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;

    private sealed class Restore(Action undo) : IDisposable
    {
        private Action? _undo = undo;
        public void Dispose() { _undo?.Invoke(); _undo = null; }
    }
}
