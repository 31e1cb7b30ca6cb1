set terminal pngcairo noenhanced font 'sans,10' size 1415,450
set grid
set key outside right top
set output 'curves.png'
set xtics 1
set multiplot layout 1,3 title 'Training curves per run' margins 0.06,0.863,0.133,0.822 spacing 0.07,0.12
set xlabel 'epoch'
set key off
set title "test accuracy [%]"
set ylabel "test accuracy [%]"
plot 'curves.dat' index 0 using 1:2 with linespoints pointsize 0.6 title "seed=0 centered", \
     'curves.dat' index 1 using 1:2 with linespoints pointsize 0.6 title "seed=1 centered", \
     'curves.dat' index 2 using 1:2 with linespoints pointsize 0.6 title "seed=2 centered", \
     'curves.dat' index 3 using 1:2 with linespoints pointsize 0.6 title "seed=3 centered", \
     'curves.dat' index 4 using 1:2 with linespoints pointsize 0.6 title "seed=4 centered", \
     'curves.dat' index 5 using 1:2 with linespoints pointsize 0.6 title "seed=0 zero"
set title "training loss (Eq. 9)"
set ylabel "training loss (Eq. 9)"
plot 'curves.dat' index 0 using 1:3 with linespoints pointsize 0.6 title "seed=0 centered", \
     'curves.dat' index 1 using 1:3 with linespoints pointsize 0.6 title "seed=1 centered", \
     'curves.dat' index 2 using 1:3 with linespoints pointsize 0.6 title "seed=2 centered", \
     'curves.dat' index 3 using 1:3 with linespoints pointsize 0.6 title "seed=3 centered", \
     'curves.dat' index 4 using 1:3 with linespoints pointsize 0.6 title "seed=4 centered", \
     'curves.dat' index 5 using 1:3 with linespoints pointsize 0.6 title "seed=0 zero"
set title "test loss (Eq. 9)"
set ylabel "test loss (Eq. 9)"
set key at screen 0.995,0.822 right top
plot 'curves.dat' index 0 using 1:4 with linespoints pointsize 0.6 title "seed=0 centered", \
     'curves.dat' index 1 using 1:4 with linespoints pointsize 0.6 title "seed=1 centered", \
     'curves.dat' index 2 using 1:4 with linespoints pointsize 0.6 title "seed=2 centered", \
     'curves.dat' index 3 using 1:4 with linespoints pointsize 0.6 title "seed=3 centered", \
     'curves.dat' index 4 using 1:4 with linespoints pointsize 0.6 title "seed=4 centered", \
     'curves.dat' index 5 using 1:4 with linespoints pointsize 0.6 title "seed=0 zero"
unset multiplot
