package org.umm4j.cli;
public class Umm4j { public static void main(String[] a){ 
System.out.println(org.nd4j.linalg.factory.Nd4j.create(new double[]{1,2}).sumNumber()); 
System.out.println(org.nd4j.linalg.factory.Nd4j.getExecutioner().getEnvironmentInformation());
System.out.println(org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment.getInstance().isUseONEDNN());
} }
