using System.CommandLine;
using AdamFamily.Lab.Execution;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// <c>afm worker --plan DIR/plan.json --unit I</c>: runs one unit of a plan and writes its result file (what local
/// workers and Slurm array tasks run). Exit codes: 0 result written (or already there), 2 the plan, settings or
/// unit index is bad or changed, 3 internal error, 130 interrupted.
/// </summary>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var plan = new Option<string>("--plan") { Description = "The plan file (DIR/plan.json).", Required = true };
        var unit = new Option<int>("--unit") { Description = "The unit's index in the plan (a Slurm array task id).", Required = true };
        var planHash = new Option<string?>("--plan-hash") { Description = "Refuse to run unless the plan still has this hash (what the job was submitted with)." };
        var threads = new Option<int?>("--threads") { Description = "LibTorch threads (default: the plan's threads per run)." };
        var cmd = new Command("worker", "Run one unit of a plan (used by the local and Slurm executors).") { plan, unit, planHash, threads };
        cmd.SetAction((r, cancel) => Task.Run(() =>
        {
            int index = r.GetValue(unit);
            try
            {
                var (run, already) = UnitRunner.RunFromPlan(r.GetValue(plan)!, index, r.GetValue(planHash), r.GetValue(threads),
                    p => { if (p.Batch == p.Batches) Console.WriteLine(LocalExecutor.ProgressLine(index, p.Epoch + 1, p.Epochs)); }, cancel);
                string what = run.Failed ? $"run failed in epoch {run.Failure!.Epoch} ({run.Failure.Reason}); recorded"
                    : run.Diverged ? $"diverged at epoch {run.DivergedAtEpoch}; recorded"
                    : $"final test metric {run.FinalTestMetric:G6}";
                Console.WriteLine($"unit {index} ({run.Arm}, seed {run.Seed}): {(already ? "already done, " : "")}{what}");
                return 0;
            }
            catch (OperationCanceledException) { Console.Error.WriteLine($"unit {index}: interrupted; nothing written."); return 130; }
            catch (Exception e) when (ExitCodes.Classify(e) == ExitCodes.BadInput)   // the one rule of what a user caused
            {
                Console.Error.WriteLine($"error: unit {index}: {ExitCodes.UserMessage(e)}");
                return 2;
            }
            catch (Exception e)
            {
                // Anything else is afm's fault or the machine's (out of memory, a full disk): one line, the trace only with AFM_DEBUG.
                if (Environment.GetEnvironmentVariable("AFM_DEBUG") is { Length: > 0 }) Console.Error.WriteLine(e);
                Console.Error.WriteLine($"error: unit {index}: {e.GetType().Name}: {e.Message}");
                return 3;
            }
        }, CancellationToken.None));
        return cmd;
    }
}
