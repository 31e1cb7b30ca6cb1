set terminal pngcairo noenhanced font 'sans,10' size 1423,850
set grid
set key outside right top
set output 'vs-batch_size.png'
set multiplot layout 2,3 title "Final results against batch size (mean ± sd over 2 seeds; bars cut at the means' range)" margins 0.06,0.894,0.071,0.906 spacing 0.07,0.12
set xlabel "batch size"
set logscale x 2
set xtics ("8" 8, "16" 16, "32" 32, "64" 64, "128" 128, "256" 256, "512" 512)
set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05
set yrange [3.55:64.15]
set title "test accuracy [%]"
set ylabel "test accuracy [%]"
set key off
plot 'vs-batch_size.dat' index 0 using 1:2:3 with yerrorlines pointsize 0.8 title "bn no WS", \
     'vs-batch_size.dat' index 1 using 1:2:3 with yerrorlines pointsize 0.8 title "bn WS", \
     'vs-batch_size.dat' index 2 using 1:2:3 with yerrorlines pointsize 0.8 title "lbn no WS", \
     'vs-batch_size.dat' index 3 using 1:2:3 with yerrorlines pointsize 0.8 title "lbn WS", \
     'vs-batch_size.dat' index 4 using 1:2:3 with yerrorlines pointsize 0.8 title "ln no WS", \
     'vs-batch_size.dat' index 5 using 1:2:3 with yerrorlines pointsize 0.8 title "ln WS"
set yrange [1.80862:2.23072]
set title "training loss (Eq. 9)"
set ylabel "training loss (Eq. 9)"
set key off
plot 'vs-batch_size.dat' index 0 using 1:4:5 with yerrorlines pointsize 0.8 title "bn no WS", \
     'vs-batch_size.dat' index 1 using 1:4:5 with yerrorlines pointsize 0.8 title "bn WS", \
     'vs-batch_size.dat' index 2 using 1:4:5 with yerrorlines pointsize 0.8 title "lbn no WS", \
     'vs-batch_size.dat' index 3 using 1:4:5 with yerrorlines pointsize 0.8 title "lbn WS", \
     'vs-batch_size.dat' index 4 using 1:4:5 with yerrorlines pointsize 0.8 title "ln no WS", \
     'vs-batch_size.dat' index 5 using 1:4:5 with yerrorlines pointsize 0.8 title "ln WS"
set yrange [-3.76136:61.3886]
set title "test loss (Eq. 9)"
set ylabel "test loss (Eq. 9)"
set key off
plot 'vs-batch_size.dat' index 0 using 1:6:7 with yerrorlines pointsize 0.8 title "bn no WS", \
     'vs-batch_size.dat' index 1 using 1:6:7 with yerrorlines pointsize 0.8 title "bn WS", \
     'vs-batch_size.dat' index 2 using 1:6:7 with yerrorlines pointsize 0.8 title "lbn no WS", \
     'vs-batch_size.dat' index 3 using 1:6:7 with yerrorlines pointsize 0.8 title "lbn WS", \
     'vs-batch_size.dat' index 4 using 1:6:7 with yerrorlines pointsize 0.8 title "ln no WS", \
     'vs-batch_size.dat' index 5 using 1:6:7 with yerrorlines pointsize 0.8 title "ln WS"
set yrange [-7.69784:113.64]
set title "peak tensor memory [MiB]"
set ylabel "peak tensor memory [MiB]"
set key off
plot 'vs-batch_size.dat' index 0 using 1:12 with linespoints pointsize 0.8 title "bn no WS", \
     'vs-batch_size.dat' index 1 using 1:12 with linespoints pointsize 0.8 title "bn WS", \
     'vs-batch_size.dat' index 2 using 1:12 with linespoints pointsize 0.8 title "lbn no WS", \
     'vs-batch_size.dat' index 3 using 1:12 with linespoints pointsize 0.8 title "lbn WS", \
     'vs-batch_size.dat' index 4 using 1:12 with linespoints pointsize 0.8 title "ln no WS", \
     'vs-batch_size.dat' index 5 using 1:12 with linespoints pointsize 0.8 title "ln WS"
set yrange [-8.23158:108.148]
set title "one step's tensor memory [MiB]"
set ylabel "one step's tensor memory [MiB]"
set key off
plot 'vs-batch_size.dat' index 0 using 1:13 with linespoints pointsize 0.8 title "bn no WS", \
     'vs-batch_size.dat' index 1 using 1:13 with linespoints pointsize 0.8 title "bn WS", \
     'vs-batch_size.dat' index 2 using 1:13 with linespoints pointsize 0.8 title "lbn no WS", \
     'vs-batch_size.dat' index 3 using 1:13 with linespoints pointsize 0.8 title "lbn WS", \
     'vs-batch_size.dat' index 4 using 1:13 with linespoints pointsize 0.8 title "ln no WS", \
     'vs-batch_size.dat' index 5 using 1:13 with linespoints pointsize 0.8 title "ln WS"
set yrange [42.8857:51.4532]
set title "R_a [%]"
set ylabel "R_a [%]"
set key at screen 0.995,0.906 right top
plot 'vs-batch_size.dat' index 0 using 1:10:11 with yerrorlines pointsize 0.8 title "bn no WS", \
     'vs-batch_size.dat' index 1 using 1:10:11 with yerrorlines pointsize 0.8 title "bn WS", \
     'vs-batch_size.dat' index 2 using 1:10:11 with yerrorlines pointsize 0.8 title "lbn no WS", \
     'vs-batch_size.dat' index 3 using 1:10:11 with yerrorlines pointsize 0.8 title "lbn WS", \
     'vs-batch_size.dat' index 4 using 1:10:11 with yerrorlines pointsize 0.8 title "ln no WS", \
     'vs-batch_size.dat' index 5 using 1:10:11 with yerrorlines pointsize 0.8 title "ln WS"
unset multiplot
