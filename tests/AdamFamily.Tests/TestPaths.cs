namespace AdamFamily.Tests;

/// <summary>Finds the repository and the shared/ folder beside it (where CI puts it too).</summary>
internal static class TestPaths
{
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AdamFamily.sln")) && !Directory.Exists(Path.Combine(dir.FullName, ".ci")))
                dir = dir.Parent;
            return dir?.FullName ?? throw new DirectoryNotFoundException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }

    public static string Golden(string file)
    {
        var env = Environment.GetEnvironmentVariable("ADAMFAMILY_GOLDEN");
        var dir = env ?? Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "golden"));
        var path = Path.Combine(dir, file);
        if (!File.Exists(path)) throw new FileNotFoundException($"golden file '{path}' is missing: the tests need ../shared/golden beside the repository (or ADAMFAMILY_GOLDEN).", path);
        return path;
    }
}
