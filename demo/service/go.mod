module goscope/demo

go 1.19
