using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AdamFamily.Lab.Execution;

/// <summary>
/// Units as separate worker processes on this machine (<c>afm worker --plan DIR/plan.json --unit I</c>), at most
/// <see cref="Workers"/> at a time. A worker's stdout and stderr go to DIR/logs/unit-I.log; a worker that exits
/// without a result is retried up to <see cref="Retries"/> times (not when it refused its input: that would fail
/// again), then reported with the tail of its log while the other units go on.
/// </summary>
public sealed partial class LocalExecutor(AfmCommand afm, int workers, int retries) : IUnitExecutor
{
    public int Workers { get; } = workers >= 1 ? workers : throw new ArgumentOutOfRangeException(nameof(workers), workers, $"--workers {workers}: must be ≥ 1.");
    public int Retries { get; } = retries >= 0 ? retries : throw new ArgumentOutOfRangeException(nameof(retries), retries, $"--retries {retries}: must be ≥ 0.");

    /// <summary>The line a worker prints after each epoch, which the executor turns into progress.</summary>
    public static string ProgressLine(int unit, int epoch, int epochs) => $"afm-progress unit={unit} epoch={epoch}/{epochs}";

    /// <summary>The exit code of an interrupted worker (SIGINT): the whole command stops rather than retrying the unit.</summary>
    public const int InterruptedExitCode = 130;

    [GeneratedRegex(@"^afm-progress unit=(\d+) epoch=(\d+)/(\d+)")]
    private static partial Regex ProgressPattern();

    /// <summary>(epoch, epochs) of a <see cref="ProgressLine"/>; null for any other line.</summary>
    public static (int Epoch, int Epochs)? ParseProgressLine(string line) =>
        ProgressPattern().Match(line) is { Success: true } m
            ? (int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)) : null;

    public void Preflight() { }

    public ExecutionOutcome Execute(UnitContext ctx, IReadOnlyList<RunUnit> todo, UnitEvents events, CancellationToken cancel)
    {
        var queue = new Queue<(RunUnit Unit, int Attempt)>(todo.Select(u => (u, 1)));
        var running = new List<Worker>();
        var failed = new List<UnitFailure>();
        var store = ctx.Store;
        // Interrupted or terminated (Ctrl-C, kill, a closed terminal): stop starting workers, take the running ones down,
        // and end through OperationCanceledException (exit 130) once they are gone — the handler cancels the runtime's
        // own termination so that no worker is started, retried or left running after this process has ended.
        int interrupted = 0;
        void KillAll() { lock (running) foreach (var w in running) try { w.Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }
        var signals = OperatingSystem.IsWindows() ? new List<System.Runtime.InteropServices.PosixSignalRegistration>()
            : new[] { System.Runtime.InteropServices.PosixSignal.SIGINT, System.Runtime.InteropServices.PosixSignal.SIGTERM, System.Runtime.InteropServices.PosixSignal.SIGHUP }
                .Select(sig => System.Runtime.InteropServices.PosixSignalRegistration.Create(sig, c => { c.Cancel = true; Volatile.Write(ref interrupted, 1); KillAll(); })).ToList();
        void StopIfInterrupted()
        {
            if (Volatile.Read(ref interrupted) == 1) throw new OperationCanceledException("the running workers were stopped (their units wrote nothing).");
            cancel.ThrowIfCancellationRequested();
        }
        try
        {
            while (queue.Count > 0 || running.Count > 0)
            {
                StopIfInterrupted();
                while (running.Count < Workers && queue.Count > 0)
                {
                    var (unit, attempt) = queue.Dequeue();
                    events.Started?.Invoke(unit, attempt);
                    var worker = Worker.Start(afm, ctx, unit, attempt, events);
                    lock (running) running.Add(worker);
                    StopIfInterrupted();   // a signal while this worker started: the finally takes it down
                }
                var exited = running.FirstOrDefault(w => w.Process.HasExited);
                if (exited is null) { Thread.Sleep(50); continue; }
                lock (running) running.Remove(exited);
                exited.Finish();
                var result = store.TryLoadUnit(exited.Unit, ctx.Plan.SettingsHash);
                if (result is not null && exited.Process.ExitCode == 0)
                {
                    events.Finished?.Invoke(exited.Unit, result, false);
                    continue;
                }
                int code = exited.Process.ExitCode;
                // A worker that was interrupted (its own Ctrl-C: exit 130, or killed by our handler) is not a failure to retry.
                StopIfInterrupted();
                if (code == InterruptedExitCode) throw new OperationCanceledException($"{exited.Unit.Describe()} was interrupted (its worker exited with code {code}); nothing more is started.");
                bool badInput = code == 2;
                string reason = result is null ? $"worker exited with code {code} and wrote no result" : $"worker exited with code {code}";
                bool retry = !badInput && exited.Attempt <= Retries;
                events.AttemptFailed?.Invoke(exited.Unit, exited.Attempt, retry, reason);
                if (retry) queue.Enqueue((exited.Unit, exited.Attempt + 1));
                else failed.Add(new UnitFailure(exited.Unit, $"{reason} (after {exited.Attempt} attempt{(exited.Attempt == 1 ? "" : "s")}; log {exited.LogPath})",
                    LogTail(exited.LogPath), badInput));
            }
        }
        finally
        {
            foreach (var r in signals) r.Dispose();
            foreach (var w in running) { try { w.Process.Kill(entireProcessTree: true); w.Process.WaitForExit(); w.Finish(); } catch (InvalidOperationException) { } }
        }
        return new ExecutionOutcome(failed);
    }

    /// <summary>The last lines of a log file (what a user needs to see why a unit failed).</summary>
    public static string? LogTail(string path, int lines = 15)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var all = File.ReadAllLines(path);
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException) { return null; }
    }

    private sealed class Worker
    {
        public required Process Process { get; init; }
        public required RunUnit Unit { get; init; }
        public required int Attempt { get; init; }
        public required string LogPath { get; init; }
        public required StreamWriter Log { get; init; }

        public static Worker Start(AfmCommand afm, UnitContext ctx, RunUnit unit, int attempt, UnitEvents events)
        {
            var logPath = Path.Combine(ctx.Dir, "logs", $"unit-{unit.Index}.log");
            Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
            var log = new StreamWriter(logPath, append: attempt > 1) { AutoFlush = true };
            log.WriteLine($"# {unit.Describe()}, attempt {attempt}, {DateTime.UtcNow:O}");
            var psi = new ProcessStartInfo(afm.FileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in afm.WorkerArgs(ctx.PlanPath, unit.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), ctx.Plan.PlanHash, ctx.Plan.ThreadsPerRun)) psi.ArgumentList.Add(a);
            psi.Environment["OMP_NUM_THREADS"] = ctx.Plan.ThreadsPerRun.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var p = new Process { StartInfo = psi };
            var lk = new object();
            p.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (lk) log.WriteLine(e.Data);
                if (ParseProgressLine(e.Data) is { } ep) events.EpochDone?.Invoke(unit, ep.Epoch, ep.Epochs);
            };
            p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (lk) log.WriteLine(e.Data); };
            try { p.Start(); }
            catch (System.ComponentModel.Win32Exception e)
            {
                log.Dispose();
                throw new InvalidOperationException($"cannot start the worker '{afm.FileName}': {e.Message}", e);
            }
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            return new Worker { Process = p, Unit = unit, Attempt = attempt, LogPath = logPath, Log = log };
        }

        /// <summary>Waits for the output pumps to drain, then closes the log.</summary>
        public void Finish()
        {
            Process.WaitForExit(); // also waits until the redirected output has been read to its end
            Log.Dispose();
        }
    }
}
