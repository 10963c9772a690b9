namespace AdamFamily.Tests;

/// <summary>Finds the repository root and the golden trajectories kept in it (tests/golden).</summary>
internal static class TestPaths
{
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AdamFamily.sln")))
                dir = dir.Parent;
            return dir?.FullName ?? throw new DirectoryNotFoundException("cannot find the repository root (AdamFamily.sln) above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>A golden trajectory file from tests/golden (ADAMFAMILY_GOLDEN names another folder).</summary>
    public static string Golden(string file)
    {
        var dir = Environment.GetEnvironmentVariable("ADAMFAMILY_GOLDEN") ?? Path.Combine(RepoRoot, "tests", "golden");
        var path = Path.Combine(dir, file);
        if (!File.Exists(path)) throw new FileNotFoundException($"golden file '{path}' is missing (tests/golden in the repository, or ADAMFAMILY_GOLDEN).", path);
        return path;
    }
}
