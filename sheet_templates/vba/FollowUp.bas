Attribute VB_Name = "FollowUp"
' Follow-up Add-on buttons. Each macro hands the click to Python through xlwings' RunPython
' (the xlwings module in this workbook; no add-in needed). Python acts on this workbook,
' shows progress in the status bar and problems in a message box.
' Setup and troubleshooting: docs/excel-buttons.md
' Keep this file ASCII: the VBA project stores source in a Western code page.
Option Explicit

Public Sub CheckNow()
    RunPython "import addon.xl; addon.xl.check_now()"
End Sub

Public Sub RefreshKpis()
    RunPython "import addon.xl; addon.xl.refresh_kpis()"
End Sub

Public Sub SendReminders()
    RunPython "import addon.xl; addon.xl.send_reminders()"
End Sub

Public Sub OpenSettings()
    RunPython "import addon.xl; addon.xl.open_settings()"
End Sub
