using AdamFamily.Lab.Tasks;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Execution;

/// <summary>What an executor is handed: the results folder, its plan and settings, and (in-process only) the task already loaded.</summary>
public sealed record UnitContext(string Dir, RunPlan Plan, ExperimentSettings Settings, TrainingTask? LoadedTask = null)
{
    public string PlanPath => Path.Combine(Dir, RunPlan.FileName);
    public ResultStore Store => new(Dir);
}

/// <summary>A unit that did not produce a result: why, the tail of its log, and whether it was the input's fault (no retry helps).</summary>
public sealed record UnitFailure(RunUnit Unit, string Reason, string? LogTail = null, bool BadInput = false);

/// <summary>How an execution ended: the units that failed for good, and for a batch system the job it submitted.</summary>
public sealed record ExecutionOutcome(IReadOnlyList<UnitFailure> Failed, string? JobId = null, bool Waited = true)
{
    public static readonly ExecutionOutcome Empty = new(Array.Empty<UnitFailure>());
}

/// <summary>Callbacks while units run (all optional; called from the executor's thread).</summary>
public sealed class UnitEvents
{
    public Action<RunUnit, int>? Started { get; init; }              // unit, attempt (1-based)
    public Action<RunUnit, int, int>? EpochDone { get; init; }       // unit, epochs done, epochs
    public Action<RunProgress>? Batch { get; init; }                 // in-process only: every batch
    public Action<RunUnit, RunResult, bool>? Finished { get; init; } // unit, result, reused from an earlier call
    public Action<RunUnit, int, bool, string>? AttemptFailed { get; init; } // unit, attempt, will retry, reason
    public Action<int, int>? Queue { get; init; }                    // batch systems: units queued, running
    public Action<string>? Note { get; init; }
}

/// <summary>Runs a plan's pending units somewhere: in this process, in local worker processes, or as a Slurm job array.</summary>
public interface IUnitExecutor
{
    /// <summary>Checks the executor can run at all (e.g. sbatch is reachable) before anything is written.</summary>
    void Preflight();

    /// <summary>Runs <paramref name="todo"/>; results land in the folder (atomically, one file per unit).</summary>
    ExecutionOutcome Execute(UnitContext ctx, IReadOnlyList<RunUnit> todo, UnitEvents events, CancellationToken cancel);
}

/// <summary>Every unit one after another in this process (the library's and the tests' executor; --executor inprocess).</summary>
public sealed class InProcessExecutor : IUnitExecutor
{
    public void Preflight() { }

    public ExecutionOutcome Execute(UnitContext ctx, IReadOnlyList<RunUnit> todo, UnitEvents events, CancellationToken cancel)
    {
        if (todo.Count == 0) return ExecutionOutcome.Empty;
        using var pin = UnitRunner.PinThreads(ctx.Plan.ThreadsPerRun);
        var task = ctx.LoadedTask;
        bool owned = task is null;
        task ??= TaskLoader.Load(ctx.Settings);
        try
        {
            var store = ctx.Store;
            foreach (var unit in todo)
            {
                events.Started?.Invoke(unit, 1);
                var run = UnitRunner.Train(task, ctx.Settings, unit, p =>
                {
                    events.Batch?.Invoke(p);
                    if (p.Batch == p.Batches) events.EpochDone?.Invoke(unit, p.Epoch + 1, p.Epochs);
                }, cancel);
                store.SaveUnit(unit, ctx.Plan.SettingsHash, run, ctx.Plan.ThreadsPerRun);
                events.Finished?.Invoke(unit, run, false);
            }
        }
        finally { if (owned) task.Dispose(); }
        return ExecutionOutcome.Empty;
    }
}

/// <summary>
/// How to start afm: the executable and the arguments before the command (e.g. <c>dotnet /path/afm.dll</c>).
/// Local workers and Slurm array tasks run <c>AFM worker --plan P --unit I</c>.
/// </summary>
public sealed record AfmCommand(string FileName, IReadOnlyList<string> Prefix)
{
    /// <summary>The afm that is running now: the apphost, or <c>dotnet afm.dll</c> when started through dotnet.</summary>
    public static AfmCommand Current(string entryAssemblyPath)
    {
        var exe = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(exe) == "dotnet"
            ? new AfmCommand(exe, new[] { Path.GetFullPath(entryAssemblyPath) })
            : new AfmCommand(exe, Array.Empty<string>());
    }

    /// <summary>From a user's --afm value: a path to afm (apphost), an afm.dll (run through dotnet), or a command name on PATH.</summary>
    public static AfmCommand Parse(string text) => text.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
        ? new AfmCommand("dotnet", new[] { Path.GetFullPath(text) })
        : new AfmCommand(text.Contains('/') ? Path.GetFullPath(text) : text, Array.Empty<string>());

    public IEnumerable<string> WorkerArgs(string planPath, string unit, string planHash, int threads) =>
        Prefix.Concat(new[] { "worker", "--plan", planPath, "--unit", unit, "--plan-hash", planHash, "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture) });
}
