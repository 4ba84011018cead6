# Follow-up Add-on (跟进助手) — register the service and its health check in Windows Task Scheduler.
#
# Run in an elevated PowerShell:
#   powershell -ExecutionPolicy Bypass -File deploy\windows\install-task.ps1 -Root C:\followup -Config C:\followup\config.yaml
#
# The account must be able to read and write the workbook folder (use UNC paths such as
# \\server\share\sales.xlsx in config.yaml: mapped drive letters do not exist for scheduled tasks).
param(
    [string]$Root = "C:\followup",
    [string]$Config = "C:\followup\config.yaml",
    [string]$TaskName = "FollowUp Add-on",
    [string]$User = "$env:USERDOMAIN\$env:USERNAME"
)

$exe = Join-Path $Root "venv\Scripts\followup.exe"
if (-not (Test-Path $exe)) { throw "followup.exe not found at $exe; install first (see docs\deployment.md)" }

$cred = Get-Credential -UserName $User -Message "Account the Follow-up service runs as"
$password = $cred.GetNetworkCredential().Password

# 1) The service: starts at boot, restarted every minute if it ends, never stopped for running too long,
#    one instance only (serve also refuses a second copy itself).
$action = New-ScheduledTaskAction -Execute $exe -Argument "serve --config `"$Config`"" -WorkingDirectory $Root
$trigger = New-ScheduledTaskTrigger -AtStartup
$settings = New-ScheduledTaskSettingsSet `
    -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) `
    -ExecutionTimeLimit ([TimeSpan]::Zero) -MultipleInstances IgnoreNew `
    -StartWhenAvailable -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $trigger -Settings $settings `
    -User $cred.UserName -Password $password -RunLevel Limited -Force | Out-Null

# 2) The health check: every 30 minutes, `status` writes its report; exit code 1 marks the run as failed
#    in Task Scheduler's history ("Last Run Result" 0x1), which monitoring tools can watch.
$check = New-ScheduledTaskAction -Execute "cmd.exe" `
    -Argument "/c `"`"$exe`" status --config `"$Config`" > `"$Root\status.txt`" 2>&1`"" -WorkingDirectory $Root
$every = New-ScheduledTaskTrigger -Once -At (Get-Date) -RepetitionInterval (New-TimeSpan -Minutes 30)
Register-ScheduledTask -TaskName "$TaskName health check" -Action $check -Trigger $every `
    -User $cred.UserName -Password $password -RunLevel Limited -Force | Out-Null

Start-ScheduledTask -TaskName $TaskName
Write-Host "Registered '$TaskName' and '$TaskName health check'. Check with:"
Write-Host "  & `"$exe`" status --config `"$Config`""
