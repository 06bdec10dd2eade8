using System.Collections.ObjectModel;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Varpulis.Ui.Tests.Infrastructure;

/// <summary>
/// Debian's headless Chromium driven by its chromedriver (both from apt, nothing downloaded), with a fresh profile,
/// no background network traffic, a fixed viewport, the browser console collected, and screenshots saved as test
/// artifacts under <see cref="ArtifactsDir"/>.
/// </summary>
public sealed class Browser : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    private static readonly object ArtifactsLock = new();
    private static bool _artifactsCleared;

    private readonly string _profileDir;
    private readonly List<LogEntry> _console = [];

    private Browser(ChromeDriver driver, string profileDir, string downloadDir)
    {
        Driver = driver;
        _profileDir = profileDir;
        DownloadDir = downloadDir;
    }

    public ChromeDriver Driver { get; }

    /// <summary>Where Chromium saves downloads (checkpoint files).</summary>
    public string DownloadDir { get; }

    /// <summary>The screenshots of the UI tests: <c>ui-screenshots/</c> in the test output directory (not committed).</summary>
    public static string ArtifactsDir { get; } = Path.Combine(AppContext.BaseDirectory, "ui-screenshots");

    public static Browser Start()
    {
        var profile = Path.Combine(Path.GetTempPath(), "varpulis-chromium-" + Guid.NewGuid().ToString("N")[..12]);
        var downloads = Path.Combine(profile, "downloads");
        Directory.CreateDirectory(downloads);
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        // The machine is closed: these keep Chromium from calling home (updates, sync, field trials, QUIC probes).
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--disable-default-apps", "--disable-extensions",
            "--user-data-dir=" + profile, "--window-size=1280,800");
        options.AddUserProfilePreference("download.default_directory", downloads);
        options.AddUserProfilePreference("download.prompt_for_download", false);
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        var browser = new Browser(driver, profile, downloads);
        browser.Viewport(1280, 800);
        lock (ArtifactsLock)
        {
            // Screenshots of an earlier run would read as this run's: the first browser of a run removes them.
            if (!_artifactsCleared && Directory.Exists(ArtifactsDir))
            {
                foreach (var old in Directory.GetFiles(ArtifactsDir, "*.png")) File.Delete(old);
            }
            _artifactsCleared = true;
            Directory.CreateDirectory(ArtifactsDir);
        }
        return browser;
    }

    /// <summary>Sets the page's viewport exactly (the headless window size includes no browser chrome to subtract).</summary>
    public void Viewport(int width, int height)
    {
        Driver.ExecuteCdpCommand("Emulation.setDeviceMetricsOverride", new Dictionary<string, object?>
        {
            ["width"] = width,
            ["height"] = height,
            ["deviceScaleFactor"] = 1,
            ["mobile"] = false,
        });
    }

    public void Open(Uri url) => Driver.Navigate().GoToUrl(url);

    /// <summary>Opens the UI at <paramref name="ui"/> in a tab that has no key yet and enters <paramref name="key"/>.</summary>
    public void SignIn(Uri ui, string key)
    {
        OpenWithoutKey(ui);
        var input = WaitVisible("#key-input");
        input.SendKeys(key);
        Find("#key-submit").Click();
        WaitFor("the key dialog to close", () => !(bool)Js("return document.getElementById('key-dialog').open")!);
    }

    /// <summary>
    /// Opens the UI in a tab whose session storage has no key: clears it, leaves the page (so nothing it started runs
    /// on without a key), forgets the console so far, and opens the UI again.
    /// </summary>
    public void OpenWithoutKey(Uri ui)
    {
        Open(ui);
        Js("sessionStorage.clear()");
        Reset();
        Open(ui);
    }

    /// <summary>Navigates to a hash route of the signed-in UI (#/pipelines, ...).</summary>
    public void Go(string route) => Js("location.hash = arguments[0]", route);

    /// <summary>Clicks the element matching <paramref name="css"/>, found again if the page re-rendered it meanwhile.</summary>
    public void Click(string css)
        => WaitFor($"'{css}' to be clicked", () =>
        {
            var e = FindAll(css).FirstOrDefault(x => x.Displayed && x.Enabled);
            if (e is null) return false;
            e.Click();
            return true;
        });

    /// <summary>
    /// What is wrong with the page on screen for a keyboard or screen-reader user: visible controls without an accessible
    /// name (as Chromium's accessibility tree computes it), and a page wider than the window (it scrolls sideways).
    /// </summary>
    public List<string> AccessibilityProblems(string where)
    {
        // A page that re-renders part of itself meanwhile is checked again.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return CheckAccessibility(where);
            }
            catch (StaleElementReferenceException) when (attempt < 5)
            {
            }
        }
    }

    private List<string> CheckAccessibility(string where)
    {
        var problems = new List<string>();
        foreach (var e in FindAll("input, select, textarea, button, a[href], [role=button]"))
        {
            if (!e.Displayed) continue;
            if (string.IsNullOrWhiteSpace(((WebElement)e).ComputedAccessibleLabel))
                problems.Add($"{where}: <{e.TagName} id='{e.GetAttribute("id")}' class='{e.GetAttribute("class")}'> has no accessible name");
        }
        var (scroll, client) = ((long)Js("return document.documentElement.scrollWidth")!, (long)Js("return document.documentElement.clientWidth")!);
        if (scroll > client) problems.Add($"{where} scrolls sideways ({scroll} > {client})");
        return problems;
    }

    /// <summary>Waits for the confirmation dialog, checks its text and presses its OK button.</summary>
    public void Confirm(string title, string text)
    {
        WaitFor("the confirmation dialog", () => (bool)Js("return document.getElementById('confirm-dialog').open")!);
        Assert.Equal(title, Find("#confirm-title").Text);
        Assert.Equal(text, Find("#confirm-text").Text);
        Find("#confirm-ok").Click();
    }

    public object? Js(string script, params object[] args) => Driver.ExecuteScript(script, args);

    public IWebElement Find(string css) => Driver.FindElement(By.CssSelector(css));

    /// <summary>
    /// The rendered text of the first element matching <paramref name="css"/> (null when there is none), read in one
    /// script call: safe on parts of a page that re-renders itself while the test reads it.
    /// </summary>
    public string? Text(string css) => (string?)Js("const e = document.querySelector(arguments[0]); return e ? e.innerText : null;", css);

    /// <summary>The strings a script returns as an array, read in one call (see <see cref="Text"/>).</summary>
    public List<string> Strings(string script, params object[] args)
        => ((IEnumerable<object>)Js(script, args)!).Select(o => (string)o).ToList();

    public ReadOnlyCollection<IWebElement> FindAll(string css) => Driver.FindElements(By.CssSelector(css));

    /// <summary>Polls <paramref name="probe"/> until it returns a value (not null, not false); fails with <paramref name="what"/>.</summary>
    public T WaitFor<T>(string what, Func<T?> probe, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        Exception? last = null;
        while (true)
        {
            try
            {
                var value = probe();
                if (value is not null && !(value is bool b && !b)) return value;
            }
            catch (WebDriverException e) when (e is NoSuchElementException or StaleElementReferenceException)
            {
                last = e;
            }
            if (DateTime.UtcNow > deadline)
            {
                var shot = Screenshot("timeout-" + Guid.NewGuid().ToString("N")[..6]);
                throw new TimeoutException($"timed out waiting for {what} (screenshot {shot}); page text:\n{PageText()}", last);
            }
            Thread.Sleep(100);
        }
    }

    /// <summary>Waits until the element matching <paramref name="css"/> is displayed and returns it.</summary>
    public IWebElement WaitVisible(string css, TimeSpan? timeout = null)
        => WaitFor($"'{css}' to be displayed", () => FindAll(css).FirstOrDefault(e => e.Displayed), timeout)!;

    /// <summary>Waits until the text of <paramref name="css"/> equals <paramref name="expected"/>.</summary>
    public void WaitText(string css, string expected, TimeSpan? timeout = null)
        => WaitFor($"'{css}' to read \"{expected}\"", () => FindAll(css).FirstOrDefault()?.Text == expected, timeout);

    public string PageText()
    {
        try
        {
            return Driver.FindElement(By.TagName("body")).Text;
        }
        catch (WebDriverException)
        {
            return "";
        }
    }

    /// <summary>Saves a screenshot of the viewport as <c>NAME.png</c> under <see cref="ArtifactsDir"/>.</summary>
    public string Screenshot(string name)
    {
        var path = Path.Combine(ArtifactsDir, name + ".png");
        Driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    /// <summary>Every browser console entry so far (kept across calls; chromedriver hands each out once).</summary>
    public IReadOnlyList<LogEntry> Console()
    {
        _console.AddRange(Driver.Manage().Logs.GetLog(LogType.Browser));
        return _console;
    }

    /// <summary>The console's errors (level SEVERE: script errors, failed requests, CSP violations).</summary>
    public List<string> ConsoleErrors() => Console().Where(e => e.Level == LogLevel.Severe).Select(e => e.Message).ToList();

    /// <summary>Fails with the full messages when the console has errors.</summary>
    public void AssertNoConsoleErrors()
    {
        var errors = ConsoleErrors();
        Assert.True(errors.Count == 0, "browser console errors:\n" + string.Join("\n", errors));
    }

    /// <summary>Leaves the current page (stopping its requests) and forgets the console entries so far: a clean start.</summary>
    public void Reset()
    {
        Driver.Navigate().GoToUrl("about:blank");
        ClearConsole();
    }

    /// <summary>Forgets the console entries seen so far (after a step whose errors were checked).</summary>
    public void ClearConsole()
    {
        Console();
        _console.Clear();
    }

    public void Dispose()
    {
        try
        {
            Driver.Quit();
        }
        finally
        {
            Driver.Dispose();
            try
            {
                Directory.Delete(_profileDir, recursive: true);
            }
            catch (IOException)
            {
                // Chromium may still hold a file for a moment; the temp dir is cleaned by the OS.
            }
        }
    }
}
