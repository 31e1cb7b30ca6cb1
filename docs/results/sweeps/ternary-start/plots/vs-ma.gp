set terminal pngcairo noenhanced font 'sans,10' size 1416,850
set grid
set key outside right top
set output 'vs-ma.png'
set multiplot layout 2,3 title "Final results against M_a (mean ± sd over 5 seeds; bars cut at the means' range)" margins 0.06,0.898,0.071,0.906 spacing 0.07,0.12
set xlabel "M_a"
set xtics ("2" 2, "4" 4, "8" 8)
set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05
set yrange [82.8958:87.6502]
set title "test accuracy [%]"
set ylabel "test accuracy [%]"
set key off
plot 'vs-ma.dat' index 0 using 1:2:3 with yerrorlines pointsize 0.8 title "centered", \
     'vs-ma.dat' index 1 using 1:2:3 with yerrorlines pointsize 0.8 title "zero"
set yrange [0.419725:0.552613]
set title "training loss (Eq. 9)"
set ylabel "training loss (Eq. 9)"
set key off
plot 'vs-ma.dat' index 0 using 1:4:5 with yerrorlines pointsize 0.8 title "centered", \
     'vs-ma.dat' index 1 using 1:4:5 with yerrorlines pointsize 0.8 title "zero"
set yrange [0.442973:0.562793]
set title "test loss (Eq. 9)"
set ylabel "test loss (Eq. 9)"
set key off
plot 'vs-ma.dat' index 0 using 1:6:7 with yerrorlines pointsize 0.8 title "centered", \
     'vs-ma.dat' index 1 using 1:6:7 with yerrorlines pointsize 0.8 title "zero"
set yrange [60.9546:60.9547]
set title "peak tensor memory [MiB]"
set ylabel "peak tensor memory [MiB]"
set key off
plot 'vs-ma.dat' index 0 using 1:12 with linespoints pointsize 0.8 title "centered", \
     'vs-ma.dat' index 1 using 1:12 with linespoints pointsize 0.8 title "zero"
set yrange [56.8598:57.0034]
set title "one step's tensor memory [MiB]"
set ylabel "one step's tensor memory [MiB]"
set key off
plot 'vs-ma.dat' index 0 using 1:13 with linespoints pointsize 0.8 title "centered", \
     'vs-ma.dat' index 1 using 1:13 with linespoints pointsize 0.8 title "zero"
set yrange [29.5438:47.8208]
set title "R_a [%]"
set ylabel "R_a [%]"
set key at screen 0.995,0.906 right top
plot 'vs-ma.dat' index 0 using 1:10:11 with yerrorlines pointsize 0.8 title "centered", \
     'vs-ma.dat' index 1 using 1:10:11 with yerrorlines pointsize 0.8 title "zero"
unset multiplot
