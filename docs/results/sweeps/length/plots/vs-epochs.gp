set terminal pngcairo noenhanced font 'sans,10' size 1437,850
set grid
set key outside right top
set output 'vs-epochs.png'
set multiplot layout 2,3 title "Final results against epochs (mean ± sd over seeds)" margins 0.06,0.885,0.071,0.906 spacing 0.07,0.12
set xlabel "epochs"
set xtics ("5" 5, "10" 10, "20" 20)
set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05
set title "test accuracy [%]"
set ylabel "test accuracy [%]"
set key off
plot 'vs-epochs.dat' index 0 using 1:2:3 with yerrorlines pointsize 0.8 title "float", \
     'vs-epochs.dat' index 1 using 1:2:3 with yerrorlines pointsize 0.8 title "M_w=3 M_a=4"
set title "training loss (Eq. 9)"
set ylabel "training loss (Eq. 9)"
set key off
plot 'vs-epochs.dat' index 0 using 1:4:5 with yerrorlines pointsize 0.8 title "float", \
     'vs-epochs.dat' index 1 using 1:4:5 with yerrorlines pointsize 0.8 title "M_w=3 M_a=4"
set title "test loss (Eq. 9)"
set ylabel "test loss (Eq. 9)"
set key off
plot 'vs-epochs.dat' index 0 using 1:6:7 with yerrorlines pointsize 0.8 title "float", \
     'vs-epochs.dat' index 1 using 1:6:7 with yerrorlines pointsize 0.8 title "M_w=3 M_a=4"
set title "peak resident memory [MiB]"
set ylabel "peak resident memory [MiB]"
set key off
plot 'vs-epochs.dat' index 0 using 1:8 with linespoints pointsize 0.8 title "float", \
     'vs-epochs.dat' index 1 using 1:8 with linespoints pointsize 0.8 title "M_w=3 M_a=4"
set title "training memory [MiB]"
set ylabel "training memory [MiB]"
set key off
plot 'vs-epochs.dat' index 0 using 1:9 with linespoints pointsize 0.8 title "float", \
     'vs-epochs.dat' index 1 using 1:9 with linespoints pointsize 0.8 title "M_w=3 M_a=4"
set title "R_a [%]"
set ylabel "R_a [%]"
set key at screen 0.995,0.906 right top
plot 'vs-epochs.dat' index 0 using 1:10:11 with yerrorlines pointsize 0.8 title "float", \
     'vs-epochs.dat' index 1 using 1:10:11 with yerrorlines pointsize 0.8 title "M_w=3 M_a=4"
unset multiplot
