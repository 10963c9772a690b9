using System.Diagnostics;

namespace AdamFamily.Lab.Execution;

/// <summary>Slurm's client commands (sbatch, squeue, sacct, sinfo), run with a timeout; an unreachable tool or controller is a <see cref="SlurmUnavailableException"/>.</summary>
public static class SlurmCli
{
    /// <summary>Runs a Slurm command; returns its exit code, stdout and stderr. Throws when the tool cannot be started.</summary>
    public static (int Code, string Out, string Err) Run(string tool, IEnumerable<string> args, int timeoutSeconds = 60)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SlurmUnavailableException($"'{tool}' cannot be run ({e.Message}): Slurm's client tools are not on PATH here. Install them (Debian: slurm-client) or run afm where they are.");
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeoutSeconds * 1000))
            {
                try { p.Kill(true); } catch (InvalidOperationException) { }
                throw new SlurmUnavailableException($"'{tool} {string.Join(' ', psi.ArgumentList)}' did not answer within {timeoutSeconds} s: is the Slurm controller reachable?");
            }
            p.WaitForExit();
            return (p.ExitCode, stdout.Result, stderr.Result);
        }
    }

    /// <summary>Whether sbatch is on PATH and the controller answers (sinfo); the message says why not.</summary>
    public static (bool Ok, string Message) Check()
    {
        try
        {
            var (code, _, err) = Run("sinfo", new[] { "-h", "-o", "%P %a" }, 30);
            if (code != 0) return (false, $"the Slurm controller does not answer (sinfo: {err.Trim()}).");
            var (sc, _, _) = Run("sbatch", new[] { "--version" }, 30);
            return sc == 0 ? (true, "") : (false, "sbatch --version failed.");
        }
        catch (SlurmUnavailableException e) { return (false, e.Message); }
    }

    /// <summary>Array task id → state of a job's tasks still known to squeue (pending, running, completing); empty when the job has left the queue.</summary>
    public static Dictionary<int, string> QueuedTasks(string jobId)
    {
        var (code, output, err) = Run("squeue", new[] { "-h", "-r", "-j", jobId, "-o", "%K %T" });
        if (code != 0)
        {
            if (err.Contains("Invalid job id", StringComparison.OrdinalIgnoreCase)) return new();
            throw new SlurmUnavailableException($"squeue failed for job {jobId}: {err.Trim()}");
        }
        var tasks = new Dictionary<int, string>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ', 2);
            if (parts.Length == 2 && int.TryParse(parts[0], out var id)) tasks[id] = parts[1];
        }
        return tasks;
    }

    /// <summary>Array task id → (state, exit code) from sacct, or null when accounting is not available (e.g. no slurmdbd).</summary>
    public static Dictionary<int, (string State, string Exit)>? AccountedTasks(string jobId)
    {
        try
        {
            var (code, output, _) = Run("sacct", new[] { "-n", "-P", "-X", "-j", jobId, "-o", "JobID,State,ExitCode" }, 30);
            if (code != 0) return null;
            var map = new Dictionary<int, (string, string)>();
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var f = line.Split('|');
                if (f.Length < 3) continue;
                int us = f[0].IndexOf('_');
                if (us > 0 && int.TryParse(f[0][(us + 1)..], out var task)) map[task] = (f[1], f[2]);
            }
            return map;
        }
        catch (SlurmUnavailableException) { return null; }
    }
}

/// <summary>Slurm's tools are missing or its controller does not answer.</summary>
public sealed class SlurmUnavailableException(string message) : InvalidOperationException(message);
