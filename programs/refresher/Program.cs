using RegistryInfra.Refresher;

return await RefresherApp.RunAsync(args, configureServices: null, CancellationToken.None).ConfigureAwait(false);
